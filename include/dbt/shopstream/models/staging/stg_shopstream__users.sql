with

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

        -- Audit columns: created_at, updated_at, deleted_at, is_deleted, _source_file, _loaded_at.
        {{ staging_audit_columns() }}

    -- RAW's latest version of each user, its hard delete flagged, never dropped
    -- (macros/staging.sql): models downstream read `where not is_deleted`.
    from {{ latest_versions('users', 'user_id') }} as source

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
