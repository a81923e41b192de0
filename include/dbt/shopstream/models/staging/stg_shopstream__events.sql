with

source as (

    select * from {{ source('shopstream', 'events') }}

),

-- RAW holds one version of the row per extraction: keep the latest.
latest as (

    select * from source
    qualify row_number() over (
        partition by event_id
        order by updated_at desc, _loaded_at desc nulls last
    ) = 1

),

-- Hard deletes, flagged (never dropped): the source's record of the row's delete, if it follows the
-- version kept (macros/hard_deletes.sql). Models downstream read `where not is_deleted`.
with_deletes as (

    {{ join_hard_deletes('latest', 'events', 'event_id') }}

),

-- The payload travels as a JSON string; an invalid document becomes null instead of failing the view.
parsed as (

    select
        *,
        try_parse_json(payload) as payload_json

    from with_deletes

),

renamed as (

    select
        ---------- ids
        event_id::number(38, 0) as event_id,
        user_id::number(38, 0) as user_id,
        session_id::varchar as session_id,

        ---------- text
        lower(trim(event_type))::varchar as event_type,

        ---------- payload: the raw document and its common attributes (absent -> null)
        payload_json as payload,
        payload_json:device::varchar as device,
        payload_json:url::varchar as page_url,
        payload_json:referrer::varchar as referrer,
        payload_json:query::varchar as search_query,
        payload_json:product_id::number(38, 0) as product_id,
        payload_json:order_id::number(38, 0) as order_id,
        payload_json:quantity::number(38, 0) as quantity,
        payload_json:results::number(38, 0) as search_results,
        payload_json:items::number(38, 0) as cart_items,
        payload_json:cart_value::number(18, 2) as cart_value,
        payload_json:value::number(18, 2) as order_value,
        payload_json:payment_method::varchar as payment_method,

        ---------- timestamps (UTC)
        occurred_at::timestamp_ntz as client_occurred_at,
        created_at::timestamp_ntz as created_at,
        updated_at::timestamp_ntz as updated_at,

        ---------- hard deletes
        deleted_at::timestamp_ntz as deleted_at,
        (deleted_at is not null)::boolean as is_deleted,

        ---------- load metadata
        _source_file::varchar as _source_file,
        -- The latest load that changed this staged row: its version's, or its delete record's.
        greatest(_loaded_at, coalesce(delete_loaded_at, _loaded_at))::timestamp_ntz as _loaded_at

    from parsed

),

-- Dirty data, flagged (never dropped) and normalised: a payload without a field its event type
-- normally carries; a client clock more than an hour ahead of the server, whose event time is
-- replaced by the server's receipt time (created_at).
flagged as (

    select
        *,
        {{ is_payload_incomplete('payload', 'event_type') }} as is_payload_incomplete,
        coalesce(client_occurred_at > dateadd(hour, 1, created_at), false) as is_future_dated,
        iff(
            coalesce(client_occurred_at > dateadd(hour, 1, created_at), false),
            created_at,
            client_occurred_at
        ) as occurred_at

    from renamed

)

select * from flagged
