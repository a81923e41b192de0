with

source as (

    select * from {{ source('shopstream', 'order_items') }}

),

-- RAW holds one version of the row per extraction: keep the latest.
latest as (

    select * from source
    qualify row_number() over (
        partition by order_item_id
        order by updated_at desc, _loaded_at desc nulls last
    ) = 1

),

-- Hard deletes, flagged (never dropped): the source's record of the row's delete, if it follows the
-- version kept (macros/hard_deletes.sql). Models downstream read `where not is_deleted`.
with_deletes as (

    {{ join_hard_deletes('latest', 'order_items', 'order_item_id') }}

),

renamed as (

    select
        ---------- ids
        order_item_id::number(38, 0) as order_item_id,
        order_id::number(38, 0) as order_id,
        product_id::number(38, 0) as product_id,

        ---------- numerics
        quantity::number(38, 0) as quantity,
        unit_price::number(12, 2) as unit_price,
        coalesce(discount_amount, 0)::number(12, 2) as discount_amount,

        ---------- timestamps (UTC)
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

),

-- Line amounts: the discount applies to the whole line, not to each unit.
amounts as (

    select
        *,
        (quantity * unit_price)::number(18, 2) as gross_amount,
        (quantity * unit_price - discount_amount)::number(18, 2) as net_amount

    from renamed

)

select * from amounts
