-- Events in their browsing session: the session's bounds and each event's place in it.
with

events as (

    select * from {{ ref('stg_shopstream__events') }}
    where not is_deleted

),

sessionised as (

    select
        event_id,
        user_id,
        session_id,
        event_type,
        occurred_at,
        device,
        page_url,
        product_id,
        order_id,
        is_future_dated,
        is_payload_incomplete,
        row_number() over (
            partition by session_id order by occurred_at, event_id
        ) as event_sequence,
        min(occurred_at) over (partition by session_id) as session_started_at,
        max(occurred_at) over (partition by session_id) as session_ended_at,
        count(*) over (partition by session_id) as session_event_count,
        max(user_id) over (partition by session_id) as session_user_id,
        max(iff(event_type = 'purchase', 1, 0)) over (partition by session_id) = 1 as session_has_purchase

    from events

),

final as (

    select
        *,
        event_sequence = 1 as is_session_start,
        datediff(second, session_started_at, session_ended_at) as session_duration_seconds

    from sessionised

)

select * from final
