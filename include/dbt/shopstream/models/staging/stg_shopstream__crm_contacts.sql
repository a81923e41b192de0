with

renamed as (

    select
        ---------- ids
        contact_id::number(38, 0) as contact_id,
        user_id::number(38, 0) as user_id,

        ---------- text
        nullif(lower(trim(email)), '')::varchar as email,
        nullif(trim(phone), '')::varchar as phone,
        lower(trim(channel))::varchar as channel,
        trim(contact_reason)::varchar as contact_reason,
        lower(trim(contact_status))::varchar as contact_status,

        -- Audit columns: created_at, updated_at, deleted_at, is_deleted, _source_file, _loaded_at.
        {{ staging_audit_columns() }}

    -- RAW's latest version of each contact (a contact changes status), its hard delete flagged,
    -- never dropped (macros/staging.sql): models downstream read `where not is_deleted`.
    from {{ latest_versions('crm_contacts', 'contact_id') }} as source

)

select * from renamed
