with

source as (

    select * from {{ source('shopstream', 'deleted_rows') }}

),

-- One record per deleted row: a key deleted, inserted again by a writer and deleted again keeps its
-- latest delete (the staging models compare it with the version they keep).
latest as (

    select * from source
    qualify row_number() over (
        partition by table_name, row_id
        order by deleted_at desc, _loaded_at desc nulls last
    ) = 1

),

renamed as (

    select
        ---------- ids
        deleted_row_id::number(38, 0) as deleted_row_id,
        -- The deleted row: its table and its primary key.
        lower(trim(table_name))::varchar as table_name,
        row_id::number(38, 0) as row_id,

        ---------- timestamps (UTC)
        deleted_at::timestamp_ntz as deleted_at,

        ---------- load metadata
        _source_file::varchar as _source_file,
        _loaded_at::timestamp_ntz as _loaded_at

    from latest

)

select * from renamed
