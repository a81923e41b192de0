with

-- The live orders: their ids are all the totals need.
orders as (

    select order_id from {{ ref('stg_shopstream__orders') }}
    where not is_deleted

),

order_items as (

    select * from {{ ref('stg_shopstream__order_items') }}

),

-- One row per order that has lines, live or deleted: a deleted line counts for nothing but its
-- delete's load time, so the order's totals are recomputed by the incremental facts.
item_totals as (

    select
        order_id,
        count_if(not is_deleted) as item_count,
        sum(iff(is_deleted, 0, quantity)) as total_quantity,
        sum(iff(is_deleted, 0, gross_amount)) as gross_amount,
        sum(iff(is_deleted, 0, discount_amount)) as discount_amount,
        sum(iff(is_deleted, 0, net_amount)) as net_amount,
        max(iff(is_deleted, null, updated_at)) as items_updated_at,
        max(_loaded_at) as items_loaded_at

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
        item_totals.items_updated_at,
        item_totals.items_loaded_at

    from orders
    left join item_totals
        on orders.order_id = item_totals.order_id

)

select * from order_totals
