{#-
    The attributes each event type's JSON payload normally carries (as the shop's front end sends
    them). A payload that lacks one of them is flagged `is_payload_incomplete` in staging.
-#}
{% macro event_payload_fields() -%}
    {{ return({
        'page_view': ['device', 'url', 'referrer'],
        'search': ['device', 'query', 'results'],
        'product_view': ['device', 'url', 'product_id'],
        'add_to_cart': ['device', 'product_id', 'quantity'],
        'checkout_started': ['device', 'items', 'cart_value'],
        'purchase': ['device', 'order_id', 'value', 'payment_method'],
    }) }}
{%- endmacro %}


{#-
    A boolean SQL expression: true when the parsed payload `payload_column` (a VARIANT) lacks a
    field its event type (`event_type_column`) normally carries, or did not parse at all.
-#}
{% macro is_payload_incomplete(payload_column, event_type_column) -%}
    (
        {{ payload_column }} is null
        or case {{ event_type_column }}
            {%- for event_type, fields in event_payload_fields().items() %}
            when '{{ event_type }}' then
                {%- for field in fields %}
                {{ payload_column }}:{{ field }} is null{{ ' or' if not loop.last }}
                {%- endfor %}
            {%- endfor %}
            else false
        end
    )
{%- endmacro %}
