with

source as (

    select * from {{ source('shopstream', 'crm_contacts') }}

),

-- RAW holds one version of the row per extraction (a contact changes status): keep the latest.
latest as (

    select * from source
    qualify row_number() over (
        partition by contact_id
        order by updated_at desc, _loaded_at desc nulls last
    ) = 1

),

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

        ---------- timestamps (UTC)
        created_at::timestamp_ntz as created_at,
        updated_at::timestamp_ntz as updated_at,

        ---------- load metadata
        _source_file::varchar as _source_file,
        _loaded_at::timestamp_ntz as _loaded_at

    from latest

)

select * from renamed
