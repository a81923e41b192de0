-- Revenue reconciles from staging to every mart: the net amount of the live lines of live revenue
-- orders (paid, shipped, delivered; rows deleted in the source left out) in staging equals the
-- revenue of fct_orders, fct_order_items, mart_sales_overview, mart_product_performance and
-- mart_customer_ltv.
-- Returns one row per model whose total differs from staging's.
--
-- Totals are compared in whole cents, each row's amount rounded to its cent before the sum: exact on
-- every engine. (The emulator's SUM of a decimal is a double, which a million orders' revenue already
-- pushes past a tenth of a cent: make bench-scale, 1,000,000 orders.)

{#- Each model checked: its revenue column, and which rows count (the facts hold every order). -#}
{%- set marts = [
    {'model': 'fct_orders', 'revenue': 'net_amount', 'where': 'is_revenue'},
    {'model': 'fct_order_items', 'revenue': 'net_amount', 'where': 'is_revenue'},
    {'model': 'mart_sales_overview', 'revenue': 'revenue'},
    {'model': 'mart_product_performance', 'revenue': 'revenue'},
    {'model': 'mart_customer_ltv', 'revenue': 'lifetime_revenue'},
] %}

with

staging_lines as (

    select items.net_amount
    from {{ ref('stg_shopstream__order_items') }} as items
    inner join {{ ref('stg_shopstream__orders') }} as orders
        on items.order_id = orders.order_id
    where
        {{ is_revenue_status('orders.order_status') }}
        and not items.is_deleted
        and not orders.is_deleted

),

totals as (

    select
        'stg_shopstream__order_items' as model_name,
        coalesce(sum({{ cents('net_amount') }}), 0) as revenue_cents
    from staging_lines
    {% for mart in marts %}
    union all

    select
        '{{ mart.model }}' as model_name,
        coalesce(sum({{ cents(mart.revenue) }}), 0) as revenue_cents
    from {{ ref(mart.model) }}
    {%- if mart.where %}
    where {{ mart.where }}
    {%- endif %}
    {% endfor %}
),

expected as (

    select revenue_cents from totals
    where model_name = 'stg_shopstream__order_items'

)

select
    totals.model_name,
    totals.revenue_cents,
    expected.revenue_cents as staging_revenue_cents
from totals
cross join expected
where totals.revenue_cents != expected.revenue_cents
