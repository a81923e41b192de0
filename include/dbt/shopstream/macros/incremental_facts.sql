{#-
    The load watermark of an incremental fact: the latest `_loaded_at` already in the table (the
    latest RAW load among the rows each fact row is computed from), less `watermark_overlap_minutes`
    (dbt_project.yml, its one value).
    A run reprocesses the rows loaded after it, whatever their business dates: an older day loaded
    after a newer one is picked up. An empty table reprocesses everything.
-#}
{% macro load_watermark() -%}
    select
        dateadd(
            minute,
            -{{ var('watermark_overlap_minutes') }},
            coalesce(max(_loaded_at), '1900-01-01 00:00:00'::timestamp_ntz)
        )
    from {{ this }}
{%- endmacro %}


{#-
    A post-hook of an incremental fact: delete its rows whose `key` a staging model flags as deleted
    in the source (`is_deleted`). The merge only inserts and updates; this removes what the source
    removed. On a full refresh it deletes nothing (the rebuild reads live rows only).
-#}
{% macro delete_rows_deleted_in_source(key, staging_model) -%}
    delete from {{ this }}
    where {{ key }} in ({{ keys_deleted_in_source(key, staging_model) }})
{%- endmacro %}


{#-
    The keys `staging_model` flags as deleted in the source (`is_deleted`), as a query: what the
    incremental facts delete (above) and the SCD2 dimensions leave out.
-#}
{% macro keys_deleted_in_source(key, staging_model) -%}
    select deleted.{{ key }} from {{ ref(staging_model) }} as deleted where deleted.is_deleted
{%- endmacro %}
