with

orders as (

    select * from {{ ref('stg_shopstream__orders') }}

),

order_items as (

    select * from {{ ref('stg_shopstream__order_items') }}

),

-- One row per order that has lines.
item_totals as (

    select
        order_id,
        count(*) as item_count,
        sum(quantity) as total_quantity,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(net_amount) as net_amount,
        max(updated_at) as items_updated_at

    from order_items
    group by order_id

),

-- One row per order, lines or not: an order without lines totals zero.
order_totals as (

    select
        orders.order_id,
        coalesce(item_totals.item_count, 0)::number(38, 0) as item_count,
        coalesce(item_totals.total_quantity, 0)::number(38, 0) as total_quantity,
        coalesce(item_totals.gross_amount, 0)::number(18, 2) as gross_amount,
        coalesce(item_totals.discount_amount, 0)::number(18, 2) as discount_amount,
        coalesce(item_totals.net_amount, 0)::number(18, 2) as net_amount,
        item_totals.items_updated_at

    from orders
    left join item_totals
        on orders.order_id = item_totals.order_id

)

select * from order_totals
