with

source as (

    select * from {{ source('shopstream', 'orders') }}

),

-- RAW holds one version of the row per extraction (an order changes status): keep the latest.
latest as (

    select * from source
    qualify row_number() over (
        partition by order_id
        order by updated_at desc, _loaded_at desc nulls last
    ) = 1

),

-- Hard deletes, flagged (never dropped): the source's record of the row's delete, if it follows the
-- version kept (macros/hard_deletes.sql). Models downstream read `where not is_deleted`.
with_deletes as (

    {{ join_hard_deletes('latest', 'orders', 'order_id') }}

),

renamed as (

    select
        ---------- ids
        order_id::number(38, 0) as order_id,
        user_id::number(38, 0) as user_id,

        ---------- text
        lower(trim(order_status))::varchar as order_status,
        lower(trim(payment_method))::varchar as payment_method,
        upper(trim(shipping_country_code))::varchar(2) as shipping_country_code,

        ---------- timestamps (UTC)
        ordered_at::timestamp_ntz as ordered_at,
        created_at::timestamp_ntz as created_at,
        updated_at::timestamp_ntz as updated_at,

        ---------- hard deletes
        deleted_at::timestamp_ntz as deleted_at,
        (deleted_at is not null)::boolean as is_deleted,

        ---------- load metadata
        _source_file::varchar as _source_file,
        -- The latest load that changed this staged row: its version's, or its delete record's.
        greatest(_loaded_at, coalesce(delete_loaded_at, _loaded_at))::timestamp_ntz as _loaded_at

    from with_deletes

)

select * from renamed
