{#-
    Which orders count as revenue: the business rule, defined once.

    An order is revenue once it is paid, and stays revenue while it is shipped and delivered.
    Pending orders are not paid yet; cancelled and refunded orders are not (or no longer) revenue.
-#}
{% macro revenue_order_statuses() -%}
    {{ return(['paid', 'shipped', 'delivered']) }}
{%- endmacro %}

{#- A boolean SQL expression: true when the order status in `column_name` counts as revenue. -#}
{% macro is_revenue_status(column_name) -%}
    ({{ column_name }} in (
        {%- for status in revenue_order_statuses() -%}
            '{{ status }}'{{ ', ' if not loop.last }}
        {%- endfor -%}
    ))
{%- endmacro %}

{#-
    A money expression in whole cents (number(38, 0)), rounded to its cent: sums of cents are exact
    on every engine, where a sum of decimals is a double on the emulator.
-#}
{% macro cents(column_name) -%}
    round({{ column_name }} * 100)::number(38, 0)
{%- endmacro %}
