-- SCD type 2 product dimension: one row per version of a product, from the snap_products snapshot.
select
    dbt_scd_id::varchar as product_sk,
    product_id::number(38, 0) as product_id,
    sku::varchar as sku,
    product_name::varchar as product_name,
    category::varchar as category,
    brand::varchar as brand,
    unit_price::number(12, 2) as unit_price,
    is_active::boolean as is_active,
    {{ scd2_validity_columns('product_id') }}

from {{ ref('snap_products') }}
-- A product deleted in the source leaves the dimension, history included (its snapshot keeps the
-- closed versions).
where product_id not in ({{ keys_deleted_in_source('product_id', 'stg_shopstream__products') }})
