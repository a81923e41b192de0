{#-
    Fails (or warns, at severity warn) for every row where the boolean flag column is true: used on
    the dirty-data flags of staging, so the run reports how many rows carry each defect.
-#}
{% test is_not_flagged(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }}

{% endtest %}
