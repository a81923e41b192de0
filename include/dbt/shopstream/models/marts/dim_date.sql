-- The calendar: one row per day from the first to the last order date.
with

bounds as (

    select
        min(ordered_at)::date as first_date,
        max(ordered_at)::date as last_date

    from {{ ref('stg_shopstream__orders') }}

),

days as (

    {{ date_spine('bounds.first_date', 'bounds.last_date', 'bounds') }}

),

final as (

    select
        date_day::date as date_day,
        year(date_day)::number(38, 0) as year,
        quarter(date_day)::number(38, 0) as quarter,
        month(date_day)::number(38, 0) as month,
        {{ month_name('date_day') }}::varchar as month_name,
        to_char(date_day, 'YYYY-MM')::varchar as year_month,
        weekiso(date_day)::number(38, 0) as week_of_year,
        dayofweekiso(date_day)::number(38, 0) as day_of_week,
        {{ day_name('date_day') }}::varchar as day_name,
        (dayofweekiso(date_day) >= 6) as is_weekend

    from days

)

select * from final
