-- One row per customer with at least one revenue order: lifetime value, RFM scores and segments.
with

rfm as (

    select * from {{ ref('int_customer_rfm') }}

),

customers as (

    select * from {{ ref('dim_customers') }}
    where is_current

),

final as (

    select
        rfm.user_id::number(38, 0) as user_id,
        customers.full_name::varchar as full_name,
        customers.country_code::varchar(2) as country_code,
        rfm.customer_segment::varchar as customer_segment,
        rfm.first_order_date::date as first_order_date,
        rfm.last_order_date::date as last_order_date,
        rfm.orders::number(38, 0) as orders,
        rfm.lifetime_revenue::number(18, 2) as lifetime_revenue,
        rfm.average_basket::number(18, 2) as average_basket,
        rfm.recency_days::number(38, 0) as recency_days,
        rfm.frequency::number(38, 0) as frequency,
        rfm.monetary::number(18, 2) as monetary,
        rfm.r_score::number(38, 0) as r_score,
        rfm.f_score::number(38, 0) as f_score,
        rfm.m_score::number(38, 0) as m_score,
        rfm.rfm_segment::varchar as rfm_segment

    from rfm
    left join customers
        on rfm.user_id = customers.user_id

)

select * from final
