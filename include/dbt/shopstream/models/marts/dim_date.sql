-- The calendar: one row per day of the whole calendar years that hold orders or events, from January 1
-- of the first to December 31 of the last. Power BI's time intelligence (DATEADD, the MoM measure)
-- expects a marked date table of whole years without gaps: a calendar cut at the first order makes
-- DATEADD return blank or a partial month at the edges.
with

activity as (

    select ordered_at as happened_at from {{ ref('stg_shopstream__orders') }}
    where not is_deleted
    union all
    select occurred_at as happened_at from {{ ref('stg_shopstream__events') }}
    where not is_deleted

),

bounds as (

    select
        date_trunc('year', min(happened_at))::date as first_date,
        dateadd(day, -1, dateadd(year, 1, date_trunc('year', max(happened_at))))::date as last_date

    from activity

),

days as (

    {{ day_spine('bounds.first_date', 'bounds.last_date', 'bounds') }}

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
