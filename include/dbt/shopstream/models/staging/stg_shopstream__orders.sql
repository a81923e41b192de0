-- Incremental, like the facts: the history grows every day, and a view would re-read it whole for
-- each of its tests and each model downstream. A run after the first stages only the orders RAW
-- received a version or a delete record of since the table's load watermark (macros/staging.sql),
-- merged on order_id.
with

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

        -- Audit columns: created_at, updated_at, deleted_at, is_deleted, _source_file, _loaded_at.
        {{ staging_audit_columns() }}

    -- RAW's latest version of each order (an order changes status), its hard delete flagged,
    -- never dropped (macros/staging.sql): models downstream read `where not is_deleted`.
    from {{ latest_versions('orders', 'order_id') }} as source

)

select * from renamed
