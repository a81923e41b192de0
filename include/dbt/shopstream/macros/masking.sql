{#-
    Customers' personal data in the marts is masked for everyone but dbt's role: a Snowflake masking
    policy returns the value when dbt's role (the profile's: TRANSFORMER) or a role above it, such as
    SYSADMIN, is in the session, '***MASKED***' otherwise, so REPORTER (Power BI) never reads an e-mail,
    a name or a phone number.

    A post-hook on every mart (dbt_project.yml) calls apply_pii_masking(): it sets the policy on the
    mart's columns named in pii_columns() and renders nothing for a mart without such a column.
    - The policy lives in the mart's schema, which TRANSFORMER owns: creating and applying it needs no
      account-level privilege (admin SQL, docs/cloud.md).
    - A table build ("create or replace") drops its columns' policies, so the hook sets them again
      after every build; FORCE replaces a policy an incremental mart's column already has.
    - "if not exists" keeps an existing policy's body: change it with "alter masking policy ... set body".
    - Off on the embedded emulator (fakesnow, on DuckDB), which has no masking policies: its shims
      define masking_policies_unsupported() (emulator_shims/masking.sql), which no other target has.
-#}

{% macro pii_columns() -%}
    {{ return(['email', 'first_name', 'last_name', 'full_name', 'phone']) }}
{%- endmacro %}


{% macro apply_pii_masking(relation=none, columns=none) -%}
    {#- The arguments default to the model being built; they exist for checking the rendered SQL. -#}
    {%- set relation = relation or this -%}
    {%- set columns = columns if columns is not none else model.columns -%}
    {%- if masking_policies_unsupported is defined -%}
        {{ return('') }}
    {%- endif -%}
    {%- set masked = [] -%}
    {%- for column in columns if column | lower in pii_columns() -%}
        {%- do masked.append(column) -%}
    {%- endfor -%}
    {%- if not masked -%}
        {{ return('') }}
    {%- endif -%}
    {%- set policy = relation.database ~ '.' ~ relation.schema ~ '.PII_STRING_MASK' -%}
    {#- dbt's role is the profile's (in Airflow, the Snowflake connection's): named once, there. -#}
    {%- if not target.role -%}
        {{ exceptions.raise_compiler_error(
            "apply_pii_masking: the profile names no role, so the masking policy cannot name the role "
            ~ "that reads personal data in clear: set the role of target '" ~ target.name ~ "' "
            ~ "(profiles.yml, or the Snowflake connection's extra in Airflow)") }}
    {%- endif -%}
create masking policy if not exists {{ policy }} as (val string) returns string ->
    case
        when val is null or is_role_in_session('{{ target.role | upper }}') then val
        else '***MASKED***'
    end
    comment = 'ShopStream: customers'' personal data, in clear for dbt''s role only (macros/masking.sql)';
alter table {{ relation }} modify
    {%- for column in masked %}
    column {{ column }} set masking policy {{ policy }} force{{ ',' if not loop.last }}
    {%- endfor %};
{%- endmacro %}
