-- One row per customer with at least one revenue order: RFM scores, segments and basket.
with

revenue_orders as (

    select
        user_id,
        order_id,
        order_date,
        net_amount

    from {{ ref('fct_orders') }}
    where is_revenue

),

-- The RFM reference date is the latest revenue order date in the data, not today's date: the
-- scores depend on the data only, so a rebuild of the same data gives the same scores.
reference_date as (

    select max(order_date) as as_of_date from revenue_orders

),

customers as (

    select
        user_id,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(distinct order_id) as orders,
        sum(net_amount)::number(38, 2) as lifetime_revenue

    from revenue_orders
    group by user_id

),

measures as (

    select
        customers.user_id,
        customers.first_order_date,
        customers.last_order_date,
        customers.orders::number(38, 0) as orders,
        customers.lifetime_revenue::number(18, 2) as lifetime_revenue,
        -- Average basket: revenue over distinct orders, at this grain (one customer).
        (customers.lifetime_revenue / nullif(customers.orders, 0))::number(18, 2) as average_basket,
        datediff(day, customers.last_order_date, reference_date.as_of_date)::number(38, 0) as recency_days,
        customers.orders::number(38, 0) as frequency,
        customers.lifetime_revenue::number(18, 2) as monetary

    from customers
    cross join reference_date

),

-- Scores 1-5, 5 = best. ntile(5) over a total order: ties are broken by user_id, so equal values
-- at a quintile boundary may get neighbouring scores, always the same ones for the same data.
scored as (

    select
        *,
        ntile(5) over (order by recency_days desc, user_id asc)::number(38, 0) as r_score,
        ntile(5) over (order by frequency asc, user_id asc)::number(38, 0) as f_score,
        ntile(5) over (order by monetary asc, user_id asc)::number(38, 0) as m_score

    from measures

),

final as (

    select
        *,
        {{ rfm_segment('r_score', 'f_score', 'm_score') }}::varchar as rfm_segment,
        {{ customer_segment('orders') }}::varchar as customer_segment

    from scored

)

select * from final
