-- The RAW and landing tables the pipeline loads into, created if missing before every load (the DAG's
-- setup_warehouse task, role LOADER, which may create tables in RAW and nothing else).
-- The database, the RAW schema, the file format and the stage are an admin's one-time job:
-- include/sql/snowflake/admin/ in the cloud; the embedded stack makes them when its Snowflake
-- server starts (embedded/warehouse_bootstrap.sql).
-- Rendered once when the DAG is parsed (include/shopstream/load.py), from include/shopstream/config.py
-- alone: a run's conf never reaches this text.

-- RAW keeps every extracted version of a row: one row per (primary key, extraction), plus the file
-- it came from and when it was loaded. Staging keeps the latest version.

{#- The columns every RAW table ends with: the file the row came from, when it was loaded. #}
{%- macro load_columns() -%}
    _source_file    varchar       not null,
    _loaded_at      timestamp_ntz
{%- endmacro %}

{#- The columns every extracted table ends with: the source row's audit timestamps (the extraction
    selects by updated_at), then the load columns. #}
{%- macro audit_columns() -%}
    created_at      timestamp_ntz not null,
    updated_at      timestamp_ntz not null,
    {{ load_columns() }}
{%- endmacro %}

create table if not exists {{ params.raw_schema }}.USERS (
    user_id         number(38, 0) not null,
    email           varchar,
    first_name      varchar,
    last_name       varchar,
    country_code    varchar(2),
    city            varchar,
    signup_channel  varchar,
    {{ audit_columns() }}
);

create table if not exists {{ params.raw_schema }}.PRODUCTS (
    product_id    number(38, 0)  not null,
    sku           varchar,
    product_name  varchar,
    category      varchar,
    brand         varchar,
    unit_price    number(12, 2),
    is_active     boolean,
    {{ audit_columns() }}
);

create table if not exists {{ params.raw_schema }}.ORDERS (
    order_id               number(38, 0) not null,
    user_id                number(38, 0),
    order_status           varchar,
    payment_method         varchar,
    shipping_country_code  varchar(2),
    ordered_at             timestamp_ntz,
    {{ audit_columns() }}
);

create table if not exists {{ params.raw_schema }}.ORDER_ITEMS (
    order_item_id    number(38, 0)  not null,
    order_id         number(38, 0),
    product_id       number(38, 0),
    quantity         number(38, 0),
    unit_price       number(12, 2),
    discount_amount  number(12, 2),
    {{ audit_columns() }}
);

create table if not exists {{ params.raw_schema }}.EVENTS (
    event_id      number(38, 0) not null,
    user_id       number(38, 0),
    session_id    varchar,
    event_type    varchar,
    occurred_at   timestamp_ntz,
    payload       varchar,
    {{ audit_columns() }}
);

create table if not exists {{ params.raw_schema }}.CRM_CONTACTS (
    contact_id      number(38, 0) not null,
    user_id         number(38, 0),
    email           varchar,
    phone           varchar,
    channel         varchar,
    contact_reason  varchar,
    contact_status  varchar,
    {{ audit_columns() }}
);

-- The source's record of hard deletes (oltp.deleted_rows): one row per row deleted from one of the
-- tables above, appended and never changed. Staging flags the rows it names as deleted.
create table if not exists {{ params.raw_schema }}.DELETED_ROWS (
    deleted_row_id  number(38, 0) not null,
    table_name      varchar       not null,
    row_id          number(38, 0) not null,
    deleted_at      timestamp_ntz not null,
    {{ load_columns() }}
);

-- Landing tables: COPY INTO writes each run's file here; the load inserts into RAW only the versions
-- RAW does not hold yet, then removes the file's landing rows (include/shopstream/load.py).
{% for raw_table, landing_table in params.tables %}
create table if not exists {{ params.raw_schema }}.{{ landing_table }} like {{ params.raw_schema }}.{{ raw_table }};
{% endfor %}
