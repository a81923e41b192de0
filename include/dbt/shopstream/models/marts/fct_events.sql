-- One row per web or app event, typed, with its dirty-data flags.
--
-- Incremental by load watermark, like fct_orders: a run reprocesses the events loaded after the
-- latest `_loaded_at` already in the table (less `watermark_overlap_minutes`) that it does not hold
-- as loaded, merged on event_id; the post-hook deletes the events deleted in the source.
with

events as (

    select * from {{ ref('int_events_sessionised') }} as int_events_sessionised

    {% if is_incremental() %}
    where
        _loaded_at > ({{ load_watermark() }})
        and {{ not_yet_merged('int_events_sessionised', 'event_id') }}
    {% endif %}

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
        is_payload_incomplete::boolean as is_payload_incomplete,
        _loaded_at::timestamp_ntz as _loaded_at

    from events

)

select * from final
