{#-
    fakesnow's MERGE differs from Snowflake's in two ways (measured in the project's feasibility lab,
    fakesnow 0.12.1; docs/warehouse.md):
    1. it fails inside BEGIN ... COMMIT (its bookkeeping writes to a second DuckDB database in the
       same transaction), so the emulator's MERGE runs bare;
    2. it binds an unqualified `insert ... values ("ID")` ambiguously, so the INSERT values are
       qualified with `DBT_INTERNAL_SOURCE.` (which Snowflake reads the same way).
    Below: dbt's default MERGE for snapshots, with both changes; incremental models delete and insert.
-#}

{#-
    An incremental model's merge on the emulator is a delete of the keys it reprocesses, then an
    insert of their new rows, in one transaction: dbt's own delete+insert SQL. fakesnow rewrites a
    MERGE's matched rows into a DuckDB UPDATE, and DuckDB updates rows in place vector by vector: at a
    million orders the daily UPDATE of `fct_order_items` ran for more than ten minutes, and with a
    delete and an insert the whole daily run takes under four (make bench-scale, README). The result
    is the same table: every key of the batch holds the batch's row.
-#}
{% macro snowflake__get_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates) -%}
    {%- if unique_key is none -%}
        {% do exceptions.raise_compiler_error(
            "emulator_shims/merge.sql: the fakesnow shim merges on a unique_key only; give the "
            ~ "incremental model a unique_key, or write the keyless insert here."
        ) %}
    {%- endif -%}
    {{ return(snowflake_dml_explicit_transaction(
        default__get_delete_insert_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates)
    )) }}
{%- endmacro %}


{% macro snowflake__snapshot_merge_sql(target, source, insert_cols) -%}
    {%- set columns = config.get('snapshot_table_column_names') or get_snapshot_table_column_names() -%}

    merge into {{ target.render() }} as DBT_INTERNAL_DEST
    using {{ source }} as DBT_INTERNAL_SOURCE
    on DBT_INTERNAL_SOURCE.{{ columns.dbt_scd_id }} = DBT_INTERNAL_DEST.{{ columns.dbt_scd_id }}

    when matched
        and DBT_INTERNAL_DEST.{{ columns.dbt_valid_to }} is null
        and DBT_INTERNAL_SOURCE.dbt_change_type in ('update', 'delete')
        then update
        set {{ columns.dbt_valid_to }} = DBT_INTERNAL_SOURCE.{{ columns.dbt_valid_to }}

    when not matched
        and DBT_INTERNAL_SOURCE.dbt_change_type = 'insert'
        then insert ({{ insert_cols | join(', ') }})
        values ({% for col in insert_cols -%}
            DBT_INTERNAL_SOURCE.{{ col }}{{ ', ' if not loop.last }}
        {%- endfor %})
{%- endmacro %}
