{#
    Rehearse a failure: a model named in the environment variable SHOPSTREAM_DBT_FAIL_MODELS
    (comma-separated) fails before it builds. The DAG sets that variable from the Airflow Variable
    `shopstream_dbt_fail_models` (empty by default), so an operator, or the lineage-rerun test, can
    watch a model fail, its descendants stop and the rest of the project succeed, then clear it.
#}
{% macro fail_if_injected() %}
    {%- set requested = env_var('SHOPSTREAM_DBT_FAIL_MODELS', '').split(',') | map('trim') | list -%}
    {%- if execute and this.name in requested -%}
        {{ exceptions.raise_compiler_error(
            "Fault injected in " ~ this.name ~ " (Airflow Variable shopstream_dbt_fail_models): "
            ~ "delete the Variable, then clear this task with its downstream tasks."
        ) }}
    {%- endif -%}
{% endmacro %}
