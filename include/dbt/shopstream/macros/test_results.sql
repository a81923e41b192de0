{#-
    on-run-end (dbt_project.yml): the data tests this invocation ran are recorded in
    mart_data_quality_findings, which the report's data-quality page reads. For every test that ran,
    its earlier row is deleted; a test that did not pass (warn, fail, error) gets a new row. A
    selective run (one model re-run from Airflow) so updates only the tests it ran.

    Skipped, with a log line, when nothing was tested or the table is not built yet.
-#}

{% macro record_test_results(results) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set tests = results | selectattr('node.resource_type', 'equalto', 'test') | list -%}
    {%- set findings_node = graph.nodes.get('model.' ~ project_name ~ '.mart_data_quality_findings') -%}
    {%- if not tests or findings_node is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set findings = adapter.get_relation(
        database=findings_node.database, schema=findings_node.schema, identifier=findings_node.alias) -%}
    {%- if findings is none -%}
        {{ log('record_test_results: mart_data_quality_findings is not built yet; test results not recorded',
               info=true) }}
        {{ return('') }}
    {%- endif -%}

    {%- set ran = [] -%}
    {%- set rows = [] -%}
    {%- for result in tests -%}
        {%- do ran.append(_quality_literal(result.node.unique_id)) -%}
        {%- if result.status in ('warn', 'fail', 'error') -%}
            {%- do rows.append(_quality_row(result)) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- call statement('forget_tests_that_ran') -%}
        delete from {{ findings }} where test_id in ({{ ran | join(', ') }})
    {%- endcall -%}
    {%- if rows -%}
        {%- call statement('record_findings') -%}
            insert into {{ findings }}
                (test_id, test_type, tested_model, column_name, severity, status, failures, message,
                 checked_at, invocation_id)
            values
                {{ rows | join(',\n                ') }}
        {%- endcall -%}
    {%- endif -%}
    {{ log('record_test_results: ' ~ tests | length ~ ' tests ran, ' ~ rows | length ~ ' not passing', info=true) }}
    {{ return('') }}
{%- endmacro %}


{#- One values tuple of mart_data_quality_findings for a test's result. -#}
{% macro _quality_row(result) -%}
    {%- set node = result.node -%}
    {%- set tested = node.attached_node or (node.depends_on.nodes | first) or '' -%}
    {%- set test_type = node.test_metadata.name if node.test_metadata else 'singular' -%}
    ({{ _quality_literal(node.unique_id) }}, {{ _quality_literal(test_type) }},
     {{ _quality_literal(tested.split('.')[-1]) }}, {{ _quality_literal(node.column_name) }},
     {{ _quality_literal(node.config.severity | lower) }}, {{ _quality_literal(result.status) }},
     {{ result.failures if result.failures is not none else 'null' }},
     {{ _quality_literal((result.message or '')[:500]) }},
     '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}'::timestamp_ntz,
     {{ _quality_literal(invocation_id) }})
{%- endmacro %}


{#- A SQL string literal: quotes doubled; backslashes dropped (an escape in Snowflake, not in DuckDB). -#}
{% macro _quality_literal(value) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        '{{ (value | string).replace("\\", "/").replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}
