{#-
    The customer segment, defined once and reused by int_customer_rfm (and through it by
    mart_customer_ltv and mart_sales_overview): a customer's number of revenue orders (paid, shipped,
    delivered) over their whole history.

      'New'       1 revenue order
      'Repeat'    2 to 4 revenue orders
      'VIP'       5 revenue orders or more
      'Prospect'  no revenue order yet
-#}
{% macro customer_segment(revenue_order_count) -%}
    case
        when {{ revenue_order_count }} >= 5 then 'VIP'
        when {{ revenue_order_count }} >= 2 then 'Repeat'
        when {{ revenue_order_count }} = 1 then 'New'
        else 'Prospect'
    end
{%- endmacro %}


{#- The segments, for accepted_values tests and documentation. -#}
{% macro customer_segments() -%}
    {{ return(['New', 'Repeat', 'VIP', 'Prospect']) }}
{%- endmacro %}


{#-
    The RFM segment from the three 1-5 scores (5 = best: most recent, most frequent, highest
    spend). Evaluated in this order, first match wins:

      'Champions'  r >= 4 and f >= 4 and m >= 4
      'Loyal'      r >= 3 and f >= 3
      'At risk'    r <= 2 and f >= 3   (used to buy often, not lately)
      'Lost'       r <= 2 and f <= 2
      'Others'     everything else
-#}
{% macro rfm_segment(r_score, f_score, m_score) -%}
    case
        when {{ r_score }} >= 4 and {{ f_score }} >= 4 and {{ m_score }} >= 4 then 'Champions'
        when {{ r_score }} >= 3 and {{ f_score }} >= 3 then 'Loyal'
        when {{ r_score }} <= 2 and {{ f_score }} >= 3 then 'At risk'
        when {{ r_score }} <= 2 and {{ f_score }} <= 2 then 'Lost'
        else 'Others'
    end
{%- endmacro %}
