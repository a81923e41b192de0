{#-
    SCD type 2: for each `business_key`, the versions' [valid_from, valid_to) intervals never
    overlap, and exactly one version is current. Returns the offending keys.
-#}
{% test scd2_no_overlap(
    model, business_key, surrogate_key,
    valid_from='valid_from', valid_to='valid_to', is_current='is_current'
) %}

with versions as (

    select
        {{ business_key }} as business_key,
        {{ surrogate_key }} as surrogate_key,
        {{ valid_from }} as valid_from,
        {{ valid_to }} as valid_to,
        {{ is_current }} as is_current
    from {{ model }}

),

overlapping_versions as (

    select earlier.business_key
    from versions as earlier
    inner join versions as later
        on
            earlier.business_key = later.business_key
            and earlier.surrogate_key <> later.surrogate_key
            and earlier.valid_from <= later.valid_from
            and later.valid_from < earlier.valid_to

),

current_counts as (

    select business_key
    from versions
    group by business_key
    having count_if(is_current) <> 1

)

select business_key from overlapping_versions
union all
select business_key from current_counts

{% endtest %}
