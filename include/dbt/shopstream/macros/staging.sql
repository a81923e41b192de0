{#-
    What the staging model of every extracted RAW table shares: which version of each row it reads,
    and the audit columns it ends with. (stg_shopstream__deleted_rows, the delete log, has neither.)
-#}

{#-
    The latest version of each row of RAW table `source_table` (RAW keeps one version per extraction:
    the latest `updated_at` wins, then the latest load), with the source's record of its delete, if
    any (join_hard_deletes: adds `deleted_at` and `delete_loaded_at`). A subquery, for a staging
    model's `from`:

        from {{ latest_versions('orders', 'order_id') }} as source

    In an incremental staging model (the tables that grow with the history: orders, order lines,
    events), a run after the first reads only the keys `keys_loaded_since_watermark` returns.
-#}
{% macro latest_versions(source_table, key) -%}
    (
        with latest as (
            select * from {{ source('shopstream', source_table) }}
            {%- if is_incremental() %}
            -- An incremental staging model reads only the keys changed since its load watermark,
            -- each with all its versions: its latest version is the one a full read keeps.
            where {{ key }} in ({{ keys_loaded_since_watermark(source_table, key) }})
            {%- endif %}
            qualify row_number() over (
                partition by {{ key }}
                order by updated_at desc, _loaded_at desc nulls last
            ) = 1
        )

        {{ join_hard_deletes('latest', source_table, key) }}
    )
{%- endmacro %}


{#-
    The columns every staging model of a RAW table ends with, read from `latest_versions`: the
    source's timestamps, the hard-delete flag and the load metadata.
-#}
{% macro staging_audit_columns() -%}
        ---------- timestamps (UTC)
        created_at::timestamp_ntz as created_at,
        updated_at::timestamp_ntz as updated_at,

        ---------- hard deletes
        deleted_at::timestamp_ntz as deleted_at,
        (deleted_at is not null)::boolean as is_deleted,

        ---------- load metadata
        _source_file::varchar as _source_file,
        -- The latest load that changed this staged row: its version's, or its delete record's.
        greatest(_loaded_at, coalesce(delete_loaded_at, _loaded_at))::timestamp_ntz as _loaded_at
{%- endmacro %}


{#-
    The keys of RAW table `source_table` that an incremental staging model reprocesses, as a query:
    those RAW received a newer version of than the staged one, or a delete record of, after the
    model's load watermark (macros/incremental_facts.sql).
-#}
{% macro keys_loaded_since_watermark(source_table, key) -%}
    select changed.{{ key }} from {{ source('shopstream', source_table) }} as changed
    where
        changed._loaded_at > ({{ load_watermark() }})
        -- A version older than, or the same as, the staged one changes nothing.
        and {{ not_yet_merged('changed', key, 'updated_at', '>=') }}
    union all
    select deletes.row_id from {{ ref('stg_shopstream__deleted_rows') }} as deletes
    where deletes.table_name = '{{ source_table }}' and deletes._loaded_at > ({{ load_watermark() }})
{%- endmacro %}
