{#-
    The load watermark of an incremental model: the latest `_loaded_at` already in the table (the
    latest RAW load among the rows each of its rows is computed from), less `watermark_overlap_minutes`
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
    The rows of `relation` (a CTE with `_loaded_at`) an incremental run merges: those loaded after the
    load watermark; a full build takes them all.
-#}
{% macro loaded_after_watermark(relation) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    where _loaded_at > ({{ load_watermark() }})
    {%- endif %}
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


{#-
    A condition on the rows of `relation` (a CTE or alias with `key` and `column`) in the load
    watermark's overlap: true for those the table does not already hold as they are, i.e. no row
    of the table with the same key has a `column` that `comparison` accepts against theirs. The
    overlap re-reads every row loaded in the last `watermark_overlap_minutes` before the latest
    load, which after a full load is the whole history: this keeps a run's work to the rows that
    changed. Compare a value that every change replaces (a version's `updated_at`, a copied
    `_loaded_at`), never a greatest() over several inputs, whose late-committed input can be older.
-#}
{% macro not_yet_merged(relation, key, column='_loaded_at', comparison='=') -%}
    not exists (
        select 1 from {{ this }} as merged
        where
            merged.{{ key }} = {{ relation }}.{{ key }}
            and merged.{{ column }} {{ comparison }} {{ relation }}.{{ column }}
    )
{%- endmacro %}
