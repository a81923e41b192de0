{#-
    Use a model's custom schema name as it is (STAGING, INTERMEDIATE, MARTS), not dbt's default
    "<target schema>_<custom schema>"; without a custom schema, fall back to the target's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim | upper }}
    {%- endif -%}
{%- endmacro %}
