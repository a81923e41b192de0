{#-
    fakesnow has no masking policies: defined here, this macro tells the marts' masking post-hook
    (macros/masking.sql, apply_pii_masking) to render nothing. It does not exist on any other target.
-#}
{% macro masking_policies_unsupported() -%}
    {{ return(true) }}
{%- endmacro %}
