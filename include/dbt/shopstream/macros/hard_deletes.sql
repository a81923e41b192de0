{#-
    Hard deletes, for a staging model (through latest_versions, macros/staging.sql): the rows of
    `relation` (a CTE holding the latest version of each row of source table `source_table`), each
    with the source's record of its delete, if any.

    A delete counts when it follows the version kept (`deleted_at >= updated_at`): a key deleted and
    later inserted again by a writer lives again. Adds `deleted_at` (null for a live row) and
    `delete_loaded_at` (when RAW received the delete record); staging_audit_columns turns them into
    `is_deleted` and the staged row's `_loaded_at` (the latest load that changed it). Rows are
    flagged, never dropped: models downstream read `where not is_deleted`.
-#}
{% macro join_hard_deletes(relation, source_table, key) -%}
    select
        {{ relation }}.*,
        deletes.deleted_at as deleted_at,
        deletes._loaded_at as delete_loaded_at

    from {{ relation }}
    left join {{ ref('stg_shopstream__deleted_rows') }} as deletes
        on
            deletes.table_name = '{{ source_table }}'
            and {{ relation }}.{{ key }} = deletes.row_id
            and deletes.deleted_at >= {{ relation }}.updated_at
{%- endmacro %}
