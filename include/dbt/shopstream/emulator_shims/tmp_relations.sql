{#-
    fakesnow runs on DuckDB, which rejects database-qualified TEMPORARY tables and views. dbt-snowflake
    creates them for an incremental model's staging relation, a snapshot's staging table and a unit
    test's fixtures: on the emulator they are TRANSIENT tables, made by dbt-snowflake's own macro.
-#}

{#- Every incremental model stages its rows in a transient table (dbt-snowflake's
    `tmp_relation_type: transient`, dropped after the merge) rather than a temporary view. -#}
{% macro dbt_snowflake_get_tmp_relation_type(strategy, unique_key, language) -%}
    {{ return('transient') }}
{%- endmacro %}


{#- A "temporary" table (snapshot staging, unit-test fixtures) is a transient one. -#}
{% macro snowflake__create_table_temporary_sql(relation, compiled_code) -%}
    {{ return(snowflake__create_table_transient_sql(relation, compiled_code)) }}
{%- endmacro %}
