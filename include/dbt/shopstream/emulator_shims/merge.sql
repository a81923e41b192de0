{#-
    fakesnow's MERGE differs from Snowflake's in two ways (measured in the project's feasibility lab,
    fakesnow 0.12.1; docs/warehouse.md):
    1. it fails inside BEGIN ... COMMIT (its bookkeeping writes to a second DuckDB database in the
       same transaction), so the emulator's MERGE runs bare;
    2. it binds an unqualified `insert ... values ("ID")` ambiguously, so the INSERT values are
       qualified with `DBT_INTERNAL_SOURCE.` (which Snowflake reads the same way).
    Below: dbt's default MERGE for incremental models and snapshots, with both changes.
-#}

{% macro snowflake__get_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates) -%}
    {%- if unique_key is none -%}
        {% do exceptions.raise_compiler_error(
            "emulator_shims/merge.sql: the fakesnow shim merges on a unique_key only; give the "
            ~ "incremental model a unique_key, or write the keyless insert here."
        ) %}
    {%- endif -%}
    {%- set predicates = [] if incremental_predicates is none else [] + incremental_predicates -%}
    {%- set dest_col_names = dest_columns | map(attribute='name') | list -%}
    {%- set update_columns = get_merge_update_columns(
        config.get('merge_update_columns'), config.get('merge_exclude_columns'), dest_columns
    ) -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- for key in keys -%}
        {%- do predicates.append('DBT_INTERNAL_SOURCE.' ~ key ~ ' = DBT_INTERNAL_DEST.' ~ key) -%}
    {%- endfor -%}

    merge into {{ target }} as DBT_INTERNAL_DEST
        using {{ source_sql }} as DBT_INTERNAL_SOURCE
        on {{ '(' ~ predicates | join(') and (') ~ ')' }}
    when matched then update set
        {% for column_name in update_columns -%}
            {{ column_name }} = DBT_INTERNAL_SOURCE.{{ column_name }}{{ ', ' if not loop.last }}
        {%- endfor %}
    when not matched then insert
        ({{ get_quoted_csv(dest_col_names) }})
    values
        ({% for name in dest_col_names -%}
            DBT_INTERNAL_SOURCE.{{ adapter.quote(name) }}{{ ', ' if not loop.last }}
        {%- endfor %})
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
