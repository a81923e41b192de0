with

source as (

    select * from {{ source('shopstream', 'users') }}

),

-- RAW holds one version of the row per extraction: keep the latest.
latest as (

    select * from source
    qualify row_number() over (
        partition by user_id
        order by updated_at desc, _loaded_at desc nulls last
    ) = 1

),

-- Hard deletes, flagged (never dropped): the source's record of the row's delete, if it follows the
-- version kept (macros/hard_deletes.sql). Models downstream read `where not is_deleted`.
with_deletes as (

    {{ join_hard_deletes('latest', 'users', 'user_id') }}

),

-- Dirty data, normalised: e-mails lower-cased and trimmed, blank strings become null.
renamed as (

    select
        ---------- ids
        user_id::number(38, 0) as user_id,

        ---------- text
        nullif(lower(trim(email)), '')::varchar as email,
        nullif(trim(first_name), '')::varchar as first_name,
        nullif(trim(last_name), '')::varchar as last_name,
        upper(trim(country_code))::varchar(2) as country_code,
        nullif(trim(city), '')::varchar as city,
        lower(trim(signup_channel))::varchar as signup_channel,

        ---------- timestamps (UTC)
        created_at::timestamp_ntz as created_at,
        updated_at::timestamp_ntz as updated_at,

        ---------- hard deletes
        deleted_at::timestamp_ntz as deleted_at,
        (deleted_at is not null)::boolean as is_deleted,

        ---------- load metadata
        _source_file::varchar as _source_file,
        -- The latest load that changed this staged row: its version's, or its delete record's.
        greatest(_loaded_at, coalesce(delete_loaded_at, _loaded_at))::timestamp_ntz as _loaded_at

    from with_deletes

),

-- Dirty data, flagged (never dropped): a shared normalised e-mail, a blank name part.
flagged as (

    select
        *,
        nullif(trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), '')::varchar as full_name,
        (
            email is not null
            and count(*) over (partition by email) > 1
        ) as is_duplicate_email,
        (first_name is null or last_name is null) as has_blank_name

    from renamed

)

select * from flagged
