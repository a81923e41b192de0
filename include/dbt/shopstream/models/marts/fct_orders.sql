-- One row per live order (its current status) with the totals of its lines.
--
-- Incremental, by load watermark: a run reprocesses every order whose row, lines or customer RAW
-- received after the latest `_loaded_at` already in the table (less `watermark_overlap_minutes`),
-- whatever their business dates, and merges them on order_id; the post-hook then deletes the orders
-- deleted in the source. So an older day loaded after a newer one is picked up, and the table equals
-- a `--full-refresh` rebuild.
with

order_totals as (

    select * from {{ ref('int_order_totals') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

-- The customers' latest versions: when one is loaded, it can change the order's customer_sk.
users as (

    select * from {{ ref('stg_shopstream__users') }}

),

orders as (

    select * from {{ ref('stg_shopstream__orders') }}
    where not is_deleted

),

order_facts as (

    select
        ---------- keys
        orders.order_id::number(38, 0) as order_id,
        orders.user_id::number(38, 0) as user_id,
        -- The customer's version valid when the order was placed.
        customers.customer_sk::varchar as customer_sk,

        ---------- dates (UTC)
        orders.ordered_at::date as order_date,
        orders.ordered_at::timestamp_ntz as ordered_at,

        ---------- attributes
        orders.order_status::varchar as order_status,
        orders.payment_method::varchar as payment_method,
        orders.shipping_country_code::varchar(2) as shipping_country_code,

        ---------- measures
        order_totals.item_count::number(38, 0) as item_count,
        order_totals.total_quantity::number(38, 0) as quantity,
        order_totals.gross_amount::number(18, 2) as gross_amount,
        order_totals.discount_amount::number(18, 2) as discount_amount,
        order_totals.net_amount::number(18, 2) as net_amount,
        {{ is_revenue_status('orders.order_status') }}::boolean as is_revenue,

        ---------- load metadata
        -- The latest load among the rows the fact row is computed from: the order, its lines and
        -- its customer.
        greatest(
            orders._loaded_at,
            coalesce(order_totals.items_loaded_at, orders._loaded_at),
            coalesce(users._loaded_at, orders._loaded_at)
        )::timestamp_ntz as _loaded_at

    from orders
    inner join order_totals
        on orders.order_id = order_totals.order_id
    left join users
        on orders.user_id = users.user_id
    left join customers on {{ scd2_version_at('customers', 'user_id', 'orders.user_id', 'orders.ordered_at') }}

),

-- An incremental run merges the orders whose fact row changed since the table's load watermark.
final as (

    {{ loaded_after_watermark('order_facts') }}

)

select * from final
