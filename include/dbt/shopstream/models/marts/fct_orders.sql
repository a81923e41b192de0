{{ config(
    materialized='incremental',
    unique_key='order_id',
    post_hook="{{ delete_rows_deleted_in_source('order_id', 'stg_shopstream__orders') }}"
) }}

-- One row per live order (its current status) with the totals of its lines.
--
-- Incremental, by load watermark: a run reprocesses every order whose row, lines or customer RAW
-- received after the latest `_loaded_at` already in the table (less `watermark_overlap_minutes`),
-- whatever their business dates, and merges them on order_id; the post-hook then deletes the orders
-- deleted in the source. So an older day loaded after a newer one is picked up, and the table equals
-- a `--full-refresh` rebuild.
with

orders as (

    select * from {{ ref('stg_shopstream__orders') }}
    where not is_deleted

),

users as (

    select * from {{ ref('stg_shopstream__users') }}

),

order_totals as (

    select * from {{ ref('int_order_totals') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

computed_orders as (

    select
        orders.order_id,
        orders.user_id,
        orders.order_status,
        orders.payment_method,
        orders.shipping_country_code,
        orders.ordered_at,
        order_totals.item_count,
        order_totals.total_quantity,
        order_totals.gross_amount,
        order_totals.discount_amount,
        order_totals.net_amount,
        -- The latest load among the rows the fact row is computed from: the order, its lines and
        -- its customer (a new customer version can change the order's customer_sk).
        greatest(
            orders._loaded_at,
            coalesce(order_totals.items_loaded_at, orders._loaded_at),
            coalesce(users._loaded_at, orders._loaded_at)
        ) as _loaded_at

    from orders
    inner join order_totals
        on orders.order_id = order_totals.order_id
    left join users
        on orders.user_id = users.user_id

),

changed_orders as (

    select * from computed_orders

    {% if is_incremental() %}
    where _loaded_at > ({{ load_watermark() }})
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
        {{ is_revenue_status('changed_orders.order_status') }}::boolean as is_revenue,

        ---------- load metadata
        changed_orders._loaded_at::timestamp_ntz as _loaded_at

    from changed_orders
    left join customers
        on
            changed_orders.user_id = customers.user_id
            and changed_orders.ordered_at >= customers.valid_from
            and changed_orders.ordered_at < customers.valid_to

)

select * from final
