-- Events in their browsing session: the session's bounds and each event's place in it.
--
-- Incremental by session: one new event changes its whole session (bounds, size, ranks), so a run
-- recomputes, whole, every session of which staging received an event, or a delete, after the load
-- watermark, and merges its events on event_id; the post-hook deletes the events deleted in the
-- source. The tests and fct_events then read a table, not windows over the whole history.
with

events as (

    select * from {{ ref('stg_shopstream__events') }}
    where not is_deleted

),

{% if is_incremental() %}
-- The sessions to recompute: those of the events staging received, or flagged deleted, since the
-- load watermark and not yet merged here as they are.
changed_sessions as (

    select changed.session_id from {{ ref('stg_shopstream__events') }} as changed
    where
        changed._loaded_at > ({{ load_watermark() }})
        and {{ not_yet_merged('changed', 'event_id') }}

),
{% endif %}

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
        _loaded_at,
        row_number() over (
            partition by session_id order by occurred_at, event_id
        ) as event_sequence,
        min(occurred_at) over (partition by session_id) as session_started_at,
        max(occurred_at) over (partition by session_id) as session_ended_at,
        count(*) over (partition by session_id) as session_event_count,
        max(user_id) over (partition by session_id) as session_user_id,
        max(iff(event_type = 'purchase', 1, 0)) over (partition by session_id) = 1 as session_has_purchase

    from events

    {% if is_incremental() %}
    where session_id in (select changed_sessions.session_id from changed_sessions)
    {% endif %}

),

final as (

    select
        *,
        event_sequence = 1 as is_session_start,
        datediff(second, session_started_at, session_ended_at) as session_duration_seconds

    from sessionised

)

select * from final
