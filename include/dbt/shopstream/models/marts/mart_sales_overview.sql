-- Revenue by day x shipping country x product category x customer segment.
with

order_items as (

    select * from {{ ref('fct_order_items') }}
    where is_revenue

),

-- Each order's shipping country.
orders as (

    select
        order_id,
        shipping_country_code

    from {{ ref('fct_orders') }}

),

-- Every version of each product: a line's product_sk names the one valid when it was ordered.
products as (

    select
        product_sk,
        category

    from {{ ref('dim_products') }}

),

-- Each customer's current segment.
customer_segments as (

    select
        user_id,
        customer_segment

    from {{ ref('int_customer_rfm') }}

),

lines as (

    select
        order_items.order_date,
        orders.shipping_country_code as country_code,
        -- The category of the product's version valid when the order was placed.
        products.category,
        customer_segments.customer_segment,
        order_items.order_id,
        order_items.user_id,
        order_items.quantity,
        order_items.net_amount

    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    left join products
        on order_items.product_sk = products.product_sk
    left join customer_segments
        on order_items.user_id = customer_segments.user_id

),

final as (

    select
        order_date::date as order_date,
        country_code::varchar(2) as country_code,
        coalesce(category, 'Unknown')::varchar as category,
        coalesce(customer_segment, 'Prospect')::varchar as customer_segment,
        sum(net_amount)::number(18, 2) as revenue,
        count(distinct order_id)::number(38, 0) as orders,
        sum(quantity)::number(38, 0) as items_sold,
        count(distinct user_id)::number(38, 0) as customers

    from lines
    group by 1, 2, 3, 4

)

select * from final
