{#-
    A date spine: one row per day from `start_date` to `end_date` (both included), in a column
    `date_day`. Both bounds are SQL expressions (a column of a one-row CTE, a literal cast, ...).
    Numbers come from cross-joined digits, so it needs no generator table function: up to 10^4 days.
    Named apart from dbt's own `date_spine(datepart, start_date, end_date)`, which a root-project macro
    of that name would shadow for every caller, dbt's included.
-#}
{% macro day_spine(start_date, end_date, bounds_relation) -%}
    {%- set digits = '(values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9))' -%}
    select dateadd(day, day_numbers.day_number, {{ start_date }})::date as date_day
    from (
        select units.digit + 10 * tens.digit + 100 * hundreds.digit + 1000 * thousands.digit as day_number
        from {{ digits }} as units (digit)
        cross join {{ digits }} as tens (digit)
        cross join {{ digits }} as hundreds (digit)
        cross join {{ digits }} as thousands (digit)
    ) as day_numbers
    cross join {{ bounds_relation }}
    where day_numbers.day_number <= datediff(day, {{ start_date }}, {{ end_date }})
{%- endmacro %}


{#- The English month name of a date ('January' ...), independent of session settings. -#}
{% macro month_name(date_column) -%}
    case month({{ date_column }})
        {%- for name in ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
                         'September', 'October', 'November', 'December'] %}
        when {{ loop.index }} then '{{ name }}'
        {%- endfor %}
    end
{%- endmacro %}


{#- The English day name of a date ('Monday' ... 'Sunday'), ISO day of week 1-7. -#}
{% macro day_name(date_column) -%}
    case dayofweekiso({{ date_column }})
        {%- for name in ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] %}
        when {{ loop.index }} then '{{ name }}'
        {%- endfor %}
    end
{%- endmacro %}
