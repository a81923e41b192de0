{#-
    Fails for every row whose value lies outside [min_value, max_value]. A bound left out compares
    with null, which is never true, so it excludes nothing.
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}
{%- set lower_bound = 'null' if min_value is none else min_value -%}
{%- set upper_bound = 'null' if max_value is none else max_value -%}

select {{ column_name }}
from {{ model }}
where
    {{ column_name }} < {{ lower_bound }}
    or {{ column_name }} > {{ upper_bound }}

{% endtest %}
