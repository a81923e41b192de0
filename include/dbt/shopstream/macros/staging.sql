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
-#}
{% macro latest_versions(source_table, key) -%}
    (
        with latest as (
            select * from {{ source('shopstream', source_table) }}
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
