{#-
    Emulator-only overrides of three dbt-snowflake 1.12 macros, so that incremental MERGE, repeat
    snapshots and unit tests run on the embedded stack's fakesnow server (a DuckDB inside).

    They are active only when `target.name == 'embedded'`. On any other target each one renders
    exactly what dbt-snowflake 1.12.4 renders (its code is reproduced in the `else` branch, because
    a root project cannot call an adapter's internal macro by namespace). See docs/warehouse.md.

    Why (measured in the project's feasibility lab, fakesnow 0.12.1):
    1. DuckDB rejects database-qualified TEMPORARY tables, which dbt-snowflake creates for
       incremental staging, snapshot staging and unit tests: the emulator gets a TRANSIENT table.
    2. fakesnow's MERGE fails inside BEGIN ... COMMIT (its bookkeeping writes to a second DuckDB
       database in the same transaction): the emulator gets the bare MERGE.
    3. fakesnow's MERGE binds the unqualified `insert ... values ("ID")` ambiguously: the emulator
       gets `values (DBT_INTERNAL_SOURCE."ID")`, which Snowflake reads the same way.
-#}

{#- True on the embedded stack (the fakesnow emulator); `target` may be shadowed in callers. -#}
{% macro shopstream_on_emulator() -%}
    {{ return(target.name == 'embedded') }}
{%- endmacro %}


{% macro snowflake__create_table_temporary_sql(relation, compiled_code) -%}
{%- set contract_config = config.get('contract') -%}
{%- if contract_config.enforced -%}
    {{- get_assert_columns_equivalent(compiled_code) -}}
    {%- set compiled_code = get_select_subquery(compiled_code) -%}
{%- endif -%}

{%- set sql_header = config.get('sql_header', none) -%}
{{ sql_header if sql_header is not none }}

create or replace {{ 'transient' if shopstream_on_emulator() else 'temporary' }} table {{ relation }}
    {%- if contract_config.enforced %}
    {{ get_table_columns_and_constraints() }}
    {%- endif %}
as (
    {{ compiled_code }}
    )
;

{%- endmacro %}


{% macro snowflake__get_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates) -%}
    {%- if shopstream_on_emulator() and unique_key is not none -%}
        {{ return(shopstream_emulator_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates)) }}
    {%- endif -%}

    {#- dbt-snowflake 1.12.4, unchanged. -#}
    {%- set dest_cols_csv = get_quoted_csv(dest_columns | map(attribute='name')) -%}
    {%- set sql_header = config.get('sql_header', none) -%}

    {%- set dml -%}
    {%- if unique_key is none -%}

        {{ sql_header if sql_header is not none }}

        insert into {{ target }} ({{ dest_cols_csv }})
        (
            select {{ dest_cols_csv }}
            from {{ source_sql }}
        )

    {%- else -%}

        {{ default__get_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates) }}

    {%- endif -%}
    {%- endset -%}

    {% if snowflake__is_catalog_linked_database(relation=config.model) or shopstream_on_emulator() %}
        {% do return(dml) %}
    {% else %}
        {% do return(snowflake_dml_explicit_transaction(dml)) %}
    {% endif %}

{% endmacro %}


{#- dbt's default merge, with source-qualified INSERT values and no transaction (emulator only). -#}
{% macro shopstream_emulator_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates) -%}
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


{% macro snowflake__snapshot_merge_sql(target, source, insert_cols) %}
    {%- if shopstream_on_emulator() -%}
        {{ return(shopstream_emulator_snapshot_merge_sql(target, source, insert_cols)) }}
    {%- endif -%}

    {#- dbt-snowflake 1.12.4, unchanged. -#}
    {% set dml = default__snapshot_merge_sql(target, source, insert_cols) %}
    {% if snowflake__is_catalog_linked_database(relation=target) %}
        {% do return(dml) %}
    {% else %}
        {% do return(snowflake_dml_explicit_transaction(dml)) %}
    {% endif %}
{% endmacro %}


{#- dbt's default snapshot merge, with source-qualified INSERT values and no transaction. -#}
{% macro shopstream_emulator_snapshot_merge_sql(target, source, insert_cols) -%}
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
