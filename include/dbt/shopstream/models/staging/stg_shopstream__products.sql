with

source as (

    select * from {{ source('shopstream', 'products') }}

),

-- RAW holds one version of the row per extraction: keep the latest.
latest as (

    select * from source
    qualify row_number() over (
        partition by product_id
        order by updated_at desc, _loaded_at desc nulls last
    ) = 1

),

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

        ---------- timestamps (UTC)
        created_at::timestamp_ntz as created_at,
        updated_at::timestamp_ntz as updated_at,

        ---------- load metadata
        _source_file::varchar as _source_file,
        _loaded_at::timestamp_ntz as _loaded_at

    from latest

)

select * from renamed
