-- SCD type 2 customer dimension: one row per version of a user, from the snap_users snapshot.
with

versions as (

    select * from {{ ref('snap_users') }}

),

final as (

    select
        dbt_scd_id::varchar as customer_sk,
        user_id::number(38, 0) as user_id,
        email::varchar as email,
        full_name::varchar as full_name,
        country_code::varchar(2) as country_code,
        city::varchar as city,
        signup_channel::varchar as signup_channel,
        -- The first version known is extended back to the user's creation, so every order of the
        -- user finds the version valid when it was placed.
        iff(
            row_number() over (partition by user_id order by dbt_valid_from) = 1,
            least(created_at, dbt_valid_from),
            dbt_valid_from
        )::timestamp_ntz as valid_from,
        coalesce(dbt_valid_to, {{ scd2_open_end() }})::timestamp_ntz as valid_to,
        dbt_valid_to is null as is_current

    from versions

)

select * from final
