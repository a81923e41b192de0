-- One row per live order line, with its order's date, customer and revenue flag (from fct_orders).
--
-- Incremental by load watermark, like fct_orders: a line is reprocessed when RAW received it or its
-- product, or its order's fact row changed, after the latest `_loaded_at` already in the table (less
-- `watermark_overlap_minutes`); merged on order_item_id. The post-hooks delete the lines, and the
-- lines of the orders, deleted in the source.
with

order_items as (

    select * from {{ ref('stg_shopstream__order_items') }}
    where not is_deleted

),

products as (

    select * from {{ ref('dim_products') }}

),

-- The products' latest versions: when one is loaded, it can change the line's product_sk.
product_rows as (

    select * from {{ ref('stg_shopstream__products') }}

),

-- What a line takes from its order (live orders only), already of the contract's types, with when
-- the order's fact row last changed.
orders as (

    select
        order_id,
        user_id,
        ordered_at,
        order_date,
        is_revenue,
        _loaded_at
    from {{ ref('fct_orders') }}

),

item_facts as (

    select
        ---------- keys
        order_items.order_item_id::number(38, 0) as order_item_id,
        order_items.order_id::number(38, 0) as order_id,
        order_items.product_id::number(38, 0) as product_id,
        -- The product's version valid when the order was placed.
        products.product_sk::varchar as product_sk,
        orders.user_id,

        ---------- dates (UTC)
        orders.order_date,

        ---------- measures
        order_items.quantity::number(38, 0) as quantity,
        order_items.unit_price::number(12, 2) as unit_price,
        order_items.gross_amount::number(18, 2) as gross_amount,
        order_items.discount_amount::number(12, 2) as discount_amount,
        order_items.net_amount::number(18, 2) as net_amount,
        orders.is_revenue,

        ---------- load metadata
        -- The latest load among the rows the fact row is computed from: the line, its product and
        -- its order's fact row.
        greatest(
            order_items._loaded_at,
            coalesce(product_rows._loaded_at, order_items._loaded_at),
            orders._loaded_at
        )::timestamp_ntz as _loaded_at

    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    left join products on {{ scd2_version_at('products', 'product_id', 'order_items.product_id', 'orders.ordered_at') }}
    left join product_rows
        on order_items.product_id = product_rows.product_id

),

-- An incremental run merges the lines whose fact row changed since the table's load watermark.
final as (

    {{ loaded_after_watermark('item_facts') }}

)

select * from final
