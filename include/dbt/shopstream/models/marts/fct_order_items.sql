{{ config(
    materialized='incremental',
    unique_key='order_item_id',
    post_hook=[
        "{{ delete_rows_deleted_in_source('order_item_id', 'stg_shopstream__order_items') }}",
        "{{ delete_rows_deleted_in_source('order_id', 'stg_shopstream__orders') }}"
    ]
) }}

-- One row per live order line, with its order's date, customer and revenue flag.
--
-- Incremental by load watermark, like fct_orders: a line is reprocessed when RAW received it, its
-- order or its product after the latest `_loaded_at` already in the table (less
-- `watermark_overlap_minutes`), merged on order_item_id; the post-hook deletes the lines deleted in
-- the source.
with

order_items as (

    select * from {{ ref('stg_shopstream__order_items') }}
    where not is_deleted

),

orders as (

    select * from {{ ref('stg_shopstream__orders') }}
    where not is_deleted

),

product_rows as (

    select * from {{ ref('stg_shopstream__products') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

computed_items as (

    select
        order_items.order_item_id,
        order_items.order_id,
        order_items.product_id,
        orders.user_id,
        orders.ordered_at,
        orders.order_status,
        order_items.quantity,
        order_items.unit_price,
        order_items.gross_amount,
        order_items.discount_amount,
        order_items.net_amount,
        -- The latest load among the rows the fact row is computed from: the line, its order and its
        -- product (a new product version can change the line's product_sk).
        greatest(
            order_items._loaded_at,
            orders._loaded_at,
            coalesce(product_rows._loaded_at, order_items._loaded_at)
        ) as _loaded_at

    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    left join product_rows
        on order_items.product_id = product_rows.product_id

),

changed_items as (

    select * from computed_items

    {% if is_incremental() %}
    where _loaded_at > ({{ load_watermark() }})
    {% endif %}

),

final as (

    select
        ---------- keys
        changed_items.order_item_id::number(38, 0) as order_item_id,
        changed_items.order_id::number(38, 0) as order_id,
        changed_items.product_id::number(38, 0) as product_id,
        -- The product's version valid when the order was placed.
        products.product_sk::varchar as product_sk,
        changed_items.user_id::number(38, 0) as user_id,

        ---------- dates (UTC)
        changed_items.ordered_at::date as order_date,

        ---------- measures
        changed_items.quantity::number(38, 0) as quantity,
        changed_items.unit_price::number(12, 2) as unit_price,
        changed_items.gross_amount::number(18, 2) as gross_amount,
        changed_items.discount_amount::number(12, 2) as discount_amount,
        changed_items.net_amount::number(18, 2) as net_amount,
        {{ is_revenue_status('changed_items.order_status') }}::boolean as is_revenue,

        ---------- load metadata
        changed_items._loaded_at::timestamp_ntz as _loaded_at

    from changed_items
    left join products
        on
            changed_items.product_id = products.product_id
            and changed_items.ordered_at >= products.valid_from
            and changed_items.ordered_at < products.valid_to

)

select * from final
