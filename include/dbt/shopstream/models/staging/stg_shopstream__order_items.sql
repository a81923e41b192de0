-- Incremental, like the facts: the history grows every day, and a view would re-read it whole for
-- each of its tests and each model downstream. A run after the first stages only the order lines RAW
-- received a version or a delete record of since the table's load watermark (macros/staging.sql),
-- merged on order_item_id.
with

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

        -- Audit columns: created_at, updated_at, deleted_at, is_deleted, _source_file, _loaded_at.
        {{ staging_audit_columns() }}

    -- RAW's latest version of each order item, its hard delete flagged, never dropped
    -- (macros/staging.sql): models downstream read `where not is_deleted`.
    from {{ latest_versions('order_items', 'order_item_id') }} as source

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
