-- One row per product (current attributes) with its revenue and ABC class.
with

order_items as (

    select * from {{ ref('fct_order_items') }}
    where is_revenue

),

-- Each product's current version.
products as (

    select
        product_id,
        sku,
        product_name,
        category

    from {{ ref('dim_products') }}
    where is_current

),

sales as (

    select
        product_id,
        sum(net_amount) as revenue,
        sum(quantity) as units_sold,
        count(distinct order_id) as orders

    from order_items
    group by product_id

),

-- Every current product, sold or not (unsold ones have zero revenue).
product_sales as (

    select
        products.product_id,
        products.sku,
        products.product_name,
        products.category,
        coalesce(sales.revenue, 0)::number(18, 2) as revenue,
        coalesce(sales.units_sold, 0)::number(38, 0) as units_sold,
        coalesce(sales.orders, 0)::number(38, 0) as orders

    from products
    left join sales
        on products.product_id = sales.product_id

),

-- Products ranked by revenue, highest first; equal revenue is ordered by product_id, so the
-- cumulative share (and the class at a boundary) is deterministic. The sums are cast back to exact
-- decimals (the embedded emulator sums decimals as doubles).
cumulated as (

    select
        *,
        (sum(revenue) over ())::number(38, 2) as total_revenue,
        (sum(revenue) over (
            order by revenue desc, product_id asc
            rows between unbounded preceding and current row
        ))::number(38, 2) as cumulative_revenue

    from product_sales

),

final as (

    select
        product_id::number(38, 0) as product_id,
        sku::varchar as sku,
        product_name::varchar as product_name,
        category::varchar as category,
        revenue::number(18, 2) as revenue,
        units_sold::number(38, 0) as units_sold,
        orders::number(38, 0) as orders,
        (revenue / nullif(total_revenue, 0))::float as revenue_share,
        (cumulative_revenue / nullif(total_revenue, 0))::float as cumulative_revenue_share,
        -- Compared in exact decimals: 'A' while the cumulative share is <= 80 %, 'B' <= 95 %.
        (case
            when total_revenue = 0 then 'C'
            when cumulative_revenue * 100 <= total_revenue * 80 then 'A'
            when cumulative_revenue * 100 <= total_revenue * 95 then 'B'
            else 'C'
        end)::varchar as abc_class

    from cumulated

)

select * from final
