-- Incremental, like the facts: the history grows every day, and a view would re-read it whole for
-- each of its tests and each model downstream. A run after the first stages only the events RAW
-- received a version or a delete record of since the table's load watermark (macros/staging.sql),
-- merged on event_id.
with

-- The payload travels as a JSON string; an invalid document becomes null instead of failing the view.
parsed as (

    select
        *,
        try_parse_json(payload) as payload_json

    -- RAW's latest version of each event, its hard delete flagged, never dropped
    -- (macros/staging.sql): models downstream read `where not is_deleted`.
    from {{ latest_versions('events', 'event_id') }} as source

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

        -- Audit columns: created_at, updated_at, deleted_at, is_deleted, _source_file, _loaded_at.
        {{ staging_audit_columns() }}

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
