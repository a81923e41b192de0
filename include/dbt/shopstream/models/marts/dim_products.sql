-- SCD type 2 product dimension: one row per version of a product, from the snap_products snapshot.
with

versions as (

    select * from {{ ref('snap_products') }}

),

final as (

    select
        dbt_scd_id::varchar as product_sk,
        product_id::number(38, 0) as product_id,
        sku::varchar as sku,
        product_name::varchar as product_name,
        category::varchar as category,
        brand::varchar as brand,
        unit_price::number(12, 2) as unit_price,
        is_active::boolean as is_active,
        -- The first version known is extended back to the product's creation (see dim_customers).
        iff(
            row_number() over (partition by product_id order by dbt_valid_from) = 1,
            least(created_at, dbt_valid_from),
            dbt_valid_from
        )::timestamp_ntz as valid_from,
        coalesce(dbt_valid_to, {{ scd2_open_end() }})::timestamp_ntz as valid_to,
        dbt_valid_to is null as is_current

    from versions

)

select * from final
