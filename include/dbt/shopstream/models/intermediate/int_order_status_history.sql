-- One row per status an order went through, as RAW's extraction history saw it. The only model
-- outside staging that reads a source: staging keeps the latest version of each order, this model
-- needs every version (typed and cleaned the same way as stg_shopstream__orders).
with

order_versions as (

    select
        order_id::number(38, 0) as order_id,
        lower(trim(order_status))::varchar as order_status,
        updated_at::timestamp_ntz as updated_at,
        _loaded_at::timestamp_ntz as _loaded_at

    from {{ source('shopstream', 'orders') }}
    -- An order deleted in the source has no history left (staging flags it deleted).
    where order_id not in (
        select deleted.order_id from {{ ref('stg_shopstream__orders') }} as deleted
        where deleted.is_deleted
    )

),

-- A status extracted twice in a row (another column changed) is one stay in that status.
status_changes as (

    select
        order_id,
        order_status,
        updated_at,
        lag(order_status) over (
            partition by order_id order by updated_at, _loaded_at
        ) as previous_status

    from order_versions
    qualify row_number() over (
        partition by order_id, updated_at order by _loaded_at desc nulls last
    ) = 1

),

history as (

    select
        order_id,
        order_status,
        previous_status,
        updated_at as status_from,
        lead(updated_at) over (partition by order_id order by updated_at) as status_to,
        row_number() over (partition by order_id order by updated_at) as status_sequence

    from status_changes
    where previous_status is null or previous_status <> order_status

),

final as (

    select
        order_id,
        status_sequence::number(38, 0) as status_sequence,
        order_status,
        previous_status,
        status_from,
        status_to,
        status_to is null as is_current

    from history

)

select * from final
