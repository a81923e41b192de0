{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='order_item_id',
        on_schema_change='fail',
        tmp_relation_type=('table' if target.name == 'embedded' else 'view')
    )
}}

-- One row per order line, with its order's date, customer and revenue flag.
--
-- Incremental like fct_orders: a line is reprocessed when it or its order changed since the latest
-- order date already in the table, less `lookback_days` (default 3); merged on order_item_id.
with

order_items as (

    select * from {{ ref('stg_shopstream__order_items') }}

),

orders as (

    select * from {{ ref('stg_shopstream__orders') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

changed_items as (

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
        order_items.net_amount

    from order_items
    inner join orders
        on order_items.order_id = orders.order_id

    {% if is_incremental() %}
    where
        greatest(order_items.updated_at, orders.updated_at)
        >= (
            select dateadd(day, -{{ var('lookback_days', 3) }}, max(order_date))
            from {{ this }}
        )
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
        {{ is_revenue_status('changed_items.order_status') }}::boolean as is_revenue

    from changed_items
    left join products
        on
            changed_items.product_id = products.product_id
            and changed_items.ordered_at >= products.valid_from
            and changed_items.ordered_at < products.valid_to

)

select * from final
