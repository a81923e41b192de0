{#-
    The valid_to of an SCD type 2 dimension's current version: a far-future timestamp rather than
    null, so "valid at time t" is always `valid_from <= t and t < valid_to` and no reader sees a
    null end (the embedded emulator shows null timestamps as 1970-01-01 to clients).
-#}
{% macro scd2_open_end() -%}
    '9999-12-31 00:00:00'::timestamp_ntz
{%- endmacro %}
