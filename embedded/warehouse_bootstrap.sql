-- The embedded stack's stand-in for the admin's one-time setup (include/sql/snowflake/admin/): what the
-- pipeline's roles may use but not create. Run by the fakesnow server each time it starts (its
-- warehouse lives in memory). No storage integration: the emulator reads the local S3 server through
-- s3fs (fakesnow_server.py). Rendered from include/shopstream/config.py by emulators.py.

create database if not exists {{ database }};
create schema if not exists {{ database }}.{{ raw_schema }};

-- Parquet written by the extraction; column names are matched case-insensitively at COPY time.
create file format if not exists {{ database }}.{{ file_format }}
    type = parquet;

create stage if not exists {{ database }}.{{ stage }}
    url = 's3://{{ bucket }}/{{ prefix }}/';
