with

renamed as (

    select
        ---------- ids
        product_id::number(38, 0) as product_id,

        ---------- text
        trim(sku)::varchar as sku,
        trim(product_name)::varchar as product_name,
        trim(category)::varchar as category,
        trim(brand)::varchar as brand,

        ---------- numerics
        unit_price::number(12, 2) as unit_price,

        ---------- booleans
        is_active::boolean as is_active,

        -- Audit columns: created_at, updated_at, deleted_at, is_deleted, _source_file, _loaded_at.
        {{ staging_audit_columns() }}

    -- RAW's latest version of each product, its hard delete flagged, never dropped
    -- (macros/staging.sql): models downstream read `where not is_deleted`.
    from {{ latest_versions('products', 'product_id') }} as source

)

select * from renamed
