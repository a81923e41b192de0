-- SCD type 2 customer dimension: one row per version of a user, from the snap_users snapshot.
select
    dbt_scd_id::varchar as customer_sk,
    user_id::number(38, 0) as user_id,
    email::varchar as email,
    full_name::varchar as full_name,
    country_code::varchar(2) as country_code,
    city::varchar as city,
    signup_channel::varchar as signup_channel,
    {{ scd2_validity_columns('user_id') }}

from {{ ref('snap_users') }}
-- A user deleted in the source leaves the dimension, history included (its snapshot keeps the closed
-- versions): an erased account is no one's customer any more.
where user_id not in ({{ keys_deleted_in_source('user_id', 'stg_shopstream__users') }})
