with

orders as (

    select * from {{ ref('stg_shopstream__orders') }}

),

order_totals as (

    select * from {{ ref('int_order_totals') }}

),

joined as (

    select
        ---------- keys
        orders.order_id,
        orders.user_id,

        ---------- attributes
        orders.order_status,
        orders.payment_method,
        orders.shipping_country_code,
        {{ is_revenue_status('orders.order_status') }} as is_revenue,

        ---------- dates (UTC)
        orders.ordered_at,
        orders.ordered_at::date as order_date,
        orders.created_at,
        orders.updated_at,

        ---------- measures
        order_totals.item_count,
        order_totals.total_quantity,
        order_totals.gross_amount,
        order_totals.discount_amount,
        order_totals.net_amount

    from orders
    inner join order_totals
        on orders.order_id = order_totals.order_id

)

select * from joined
