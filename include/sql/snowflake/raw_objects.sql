-- The RAW and landing tables the pipeline loads into, created if missing before every load (the DAG's
-- setup_warehouse task, role LOADER, which may create tables in RAW and nothing else).
-- The database, the RAW schema, the file format and the stage are an admin's one-time job:
-- include/sql/snowflake/admin/ in the cloud; the embedded stack makes them when its Snowflake
-- server starts (embedded/warehouse_bootstrap.sql).
-- Rendered once when the DAG is parsed (include/shopstream/load.py), from include/shopstream/config.py
-- alone: a run's conf never reaches this text.

-- RAW keeps every extracted version of a row: one row per (primary key, extraction), plus the file
-- it came from and when it was loaded. Staging keeps the latest version.
-- Each table's columns are the data contract's (include/shopstream/schema_contract.py, raw_columns):
-- the extracted columns in order, typed from their cast or source type, NOT NULL where a version
-- needs them; then the load columns. The last table is the delete log, the source's record of hard
-- deletes (oltp.deleted_rows): appended, never changed; staging flags the rows it names as deleted.
-- Each RAW table has a landing table of the same columns: COPY INTO writes each run's file there; the
-- load inserts into RAW only the versions RAW does not hold yet, then removes the file's landing rows
-- (include/shopstream/load.py).
{% for table in params.tables %}
create table if not exists {{ params.raw_schema }}.{{ table.raw_table }} (
{%- for name, type in table.columns %}
    {{ name }} {{ type }},
{%- endfor %}
    _source_file varchar not null,
    _loaded_at timestamp_ntz
);
create table if not exists {{ params.raw_schema }}.{{ table.landing_table }} like {{ params.raw_schema }}.{{ table.raw_table }};
{% endfor %}
