with

users as (

    select * from {{ ref('stg_shopstream__users') }}

),

orders as (

    select * from {{ ref('stg_shopstream__orders') }}

),

order_totals as (

    select * from {{ ref('int_order_totals') }}

),

-- Which orders are revenue is the business rule of the revenue_order_statuses macro
-- (paid, shipped, delivered); fct_orders.is_revenue uses the same macro.
orders_with_totals as (

    select
        orders.order_id,
        orders.user_id,
        orders.ordered_at,
        {{ is_revenue_status('orders.order_status') }} as is_revenue,
        order_totals.net_amount

    from orders
    inner join order_totals
        on orders.order_id = order_totals.order_id

),

customer_orders as (

    select
        user_id,
        min(ordered_at)::date as first_order_date,
        max(ordered_at)::date as last_order_date,
        count(*) as order_count,
        count_if(is_revenue) as revenue_order_count,
        sum(iff(is_revenue, net_amount, 0)) as lifetime_net_revenue

    from orders_with_totals
    group by user_id

),

final as (

    select
        ---------- keys
        users.user_id,

        ---------- attributes
        users.email,
        users.first_name,
        users.last_name,
        users.country_code,
        users.city,
        users.signup_channel,
        users.created_at as signed_up_at,

        ---------- orders
        customer_orders.first_order_date,
        customer_orders.last_order_date,
        coalesce(customer_orders.order_count, 0)::number(38, 0) as order_count,
        coalesce(customer_orders.revenue_order_count, 0)::number(38, 0) as revenue_order_count,
        coalesce(customer_orders.lifetime_net_revenue, 0)::number(12, 2) as lifetime_net_revenue,
        coalesce(customer_orders.order_count, 0) > 0 as has_ordered

    from users
    left join customer_orders
        on users.user_id = customer_orders.user_id

)

select * from final
