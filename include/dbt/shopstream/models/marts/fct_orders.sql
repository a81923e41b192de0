{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='order_id',
        on_schema_change='fail',
        tmp_relation_type=('table' if target.name == 'embedded' else 'view')
    )
}}

-- One row per order (its current status) with the totals of its lines.
--
-- Incremental: a run reprocesses every order whose row or lines changed since the latest order
-- already in the table, less a lookback of `lookback_days` (default 3) for late-arriving changes,
-- and merges them on order_id. A `--full-refresh` rebuild gives the same rows.
with

orders as (

    select * from {{ ref('stg_shopstream__orders') }}

),

order_totals as (

    select * from {{ ref('int_order_totals') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

changed_orders as (

    select
        orders.*,
        order_totals.item_count,
        order_totals.total_quantity,
        order_totals.gross_amount,
        order_totals.discount_amount,
        order_totals.net_amount

    from orders
    inner join order_totals
        on orders.order_id = order_totals.order_id

    {% if is_incremental() %}
    where
        greatest(orders.updated_at, coalesce(order_totals.items_updated_at, orders.updated_at))
        >= (
            select dateadd(day, -{{ var('lookback_days', 3) }}, max(ordered_at))
            from {{ this }}
        )
    {% endif %}

),

final as (

    select
        ---------- keys
        changed_orders.order_id::number(38, 0) as order_id,
        changed_orders.user_id::number(38, 0) as user_id,
        -- The customer's version valid when the order was placed.
        customers.customer_sk::varchar as customer_sk,

        ---------- dates (UTC)
        changed_orders.ordered_at::date as order_date,
        changed_orders.ordered_at::timestamp_ntz as ordered_at,

        ---------- attributes
        changed_orders.order_status::varchar as order_status,
        changed_orders.payment_method::varchar as payment_method,
        changed_orders.shipping_country_code::varchar(2) as shipping_country_code,

        ---------- measures
        changed_orders.item_count::number(38, 0) as item_count,
        changed_orders.total_quantity::number(38, 0) as quantity,
        changed_orders.gross_amount::number(18, 2) as gross_amount,
        changed_orders.discount_amount::number(18, 2) as discount_amount,
        changed_orders.net_amount::number(18, 2) as net_amount,
        {{ is_revenue_status('changed_orders.order_status') }}::boolean as is_revenue

    from changed_orders
    left join customers
        on
            changed_orders.user_id = customers.user_id
            and changed_orders.ordered_at >= customers.valid_from
            and changed_orders.ordered_at < customers.valid_to

)

select * from final
