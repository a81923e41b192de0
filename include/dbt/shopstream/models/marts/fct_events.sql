-- One row per web or app event, typed, with its dirty-data flags.
with

events as (

    select * from {{ ref('int_events_sessionised') }}

),

final as (

    select
        event_id::number(38, 0) as event_id,
        user_id::number(38, 0) as user_id,
        session_id::varchar as session_id,
        event_type::varchar as event_type,
        occurred_at::timestamp_ntz as occurred_at,
        occurred_at::date as event_date,
        device::varchar as device,
        page_url::varchar as page_url,
        product_id::number(38, 0) as product_id,
        order_id::number(38, 0) as order_id,
        is_future_dated::boolean as is_future_dated,
        is_payload_incomplete::boolean as is_payload_incomplete

    from events

)

select * from final
