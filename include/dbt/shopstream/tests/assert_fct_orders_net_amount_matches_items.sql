-- An order's net amount in fct_orders equals the sum of its lines in staging
-- (quantity * unit_price - discount_amount, live lines only); an order without lines is worth zero.
-- Returns the orders that disagree.

with

orders as (

    select
        order_id,
        net_amount
    from {{ ref('fct_orders') }}

),

order_items as (

    select * from {{ ref('stg_shopstream__order_items') }}
    where not is_deleted

),

item_sums as (

    select
        order_id,
        sum(quantity * unit_price - discount_amount) as items_net_amount

    from order_items
    group by order_id

),

compared as (

    select
        orders.order_id,
        orders.net_amount,
        coalesce(item_sums.items_net_amount, 0) as items_net_amount

    from orders
    left join item_sums
        on orders.order_id = item_sums.order_id

)

select * from compared
where abs(net_amount - items_net_amount) > 0.001
