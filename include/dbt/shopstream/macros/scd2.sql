{#-
    The valid_to of an SCD type 2 dimension's current version: a far-future timestamp rather than
    null, so "valid at time t" is always `valid_from <= t and t < valid_to` and no reader sees a
    null end (the embedded emulator shows null timestamps as 1970-01-01 to clients).
-#}
{% macro scd2_open_end() -%}
    '9999-12-31 00:00:00'::timestamp_ntz
{%- endmacro %}


{#-
    The validity columns of an SCD type 2 dimension built on a dbt snapshot: valid_from, valid_to and
    is_current. The first version known of each key is extended back to the row's creation, so every
    fact finds the version valid when it happened, even one older than the first snapshot.
-#}
{% macro scd2_validity_columns(key) -%}
    iff(
        row_number() over (partition by {{ key }} order by dbt_valid_from) = 1,
        least(created_at, dbt_valid_from),
        dbt_valid_from
    )::timestamp_ntz as valid_from,
    coalesce(dbt_valid_to, {{ scd2_open_end() }})::timestamp_ntz as valid_to,
    dbt_valid_to is null as is_current
{%- endmacro %}


{#-
    The join condition that finds, for each fact row, the version of an SCD type 2 dimension valid at
    one of its times: `left join customers on {{ scd2_version_at('customers', 'user_id',
    'orders.user_id', 'orders.ordered_at') }}`. Versions do not overlap, so it matches one at most.
-#}
{% macro scd2_version_at(dimension, key, fact_key, at) -%}
    {{ fact_key }} = {{ dimension }}.{{ key }}
    and {{ at }} >= {{ dimension }}.valid_from
    and {{ at }} < {{ dimension }}.valid_to
{%- endmacro %}
