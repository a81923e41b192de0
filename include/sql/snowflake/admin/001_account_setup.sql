-- ShopStream: the one-time account setup on a real Snowflake account, run by an administrator
-- (a user with ACCOUNTADMIN) before the first deployment. Idempotent: every object is created
-- "if not exists", so re-running it changes nothing that exists. The embedded stack never runs it.
--
-- Replace the three placeholders first:
--   <paste>                 body of rsa_key.pub, without its BEGIN/END lines (docs/cloud.md, key pair)
--   <aws-account-id>, <snowflake-s3-role>   the IAM role Snowflake assumes to read the bucket
--   <bucket>                the landing bucket (SHOPSTREAM_S3_BUCKET)
--
-- What the pipeline does with it: one Airflow connection (snowflake_shopstream) signs in as
-- SHOPSTREAM_PIPELINE with role TRANSFORMER. Its load tasks run include/sql/snowflake/raw_objects.sql
-- (database, RAW schema, file format, stage, RAW tables "if not exists") and COPY INTO the RAW tables;
-- its dbt tasks build STAGING, INTERMEDIATE and MARTS. REPORTER reads MARTS (Power BI).

-------------------------------------------------------------------------------------------------------
-- Roles. Least privilege per job; TRANSFORMER inherits LOADER because one connection (one primary
-- role) both loads and transforms. A separate loading connection could use LOADER alone.
-- Granting them to SYSADMIN keeps the objects they own manageable by the admins.
-------------------------------------------------------------------------------------------------------
use role SECURITYADMIN;

create role if not exists LOADER comment = 'ShopStream: lands S3 files into SHOPSTREAM.RAW';
create role if not exists TRANSFORMER comment = 'ShopStream: dbt, builds STAGING, INTERMEDIATE, MARTS from RAW';
create role if not exists REPORTER comment = 'ShopStream: reads SHOPSTREAM.MARTS (Power BI)';

grant role LOADER to role TRANSFORMER;
grant role TRANSFORMER to role SYSADMIN;
grant role REPORTER to role SYSADMIN;

-------------------------------------------------------------------------------------------------------
-- Warehouses: one per workload, so each one's cost is visible and a slow dashboard never queues a
-- load. X-Small suffices for this volume; suspended after 60 s idle, resumed by the next query.
-- The single pipeline connection runs on TRANSFORM_WH; LOADING_WH serves a loading-only connection.
-------------------------------------------------------------------------------------------------------
use role SYSADMIN;

create warehouse if not exists LOADING_WH
warehouse_size = XSMALL
auto_suspend = 60
auto_resume = true
initially_suspended = true
comment = 'ShopStream: loading into RAW (role LOADER)';

create warehouse if not exists TRANSFORM_WH
warehouse_size = XSMALL
auto_suspend = 60
auto_resume = true
initially_suspended = true
comment = 'ShopStream: the pipeline connection (loads and dbt)';

create warehouse if not exists REPORTING_WH
warehouse_size = XSMALL
auto_suspend = 60
auto_resume = true
initially_suspended = true
comment = 'ShopStream: BI queries on MARTS';

-------------------------------------------------------------------------------------------------------
-- Database and schemas, owned by SYSADMIN: the pipeline creates tables and views in them but can
-- drop neither. dbt maps its custom schemas to these names as they are (macros/generate_schema_name).
-------------------------------------------------------------------------------------------------------
create database if not exists SHOPSTREAM comment = 'ShopStream: PostgreSQL OLTP -> S3 -> RAW -> dbt';
create schema if not exists SHOPSTREAM.RAW comment = 'Every extracted version of every source row, as loaded';
create schema if not exists SHOPSTREAM.STAGING comment = 'dbt views: typed, latest version per key';
create schema if not exists SHOPSTREAM.INTERMEDIATE comment = 'dbt: business logic between staging and marts';
create schema if not exists SHOPSTREAM.MARTS comment = 'dbt tables: star schema and business marts';

-------------------------------------------------------------------------------------------------------
-- Grants (SECURITYADMIN holds MANAGE GRANTS, which future grants need).
-------------------------------------------------------------------------------------------------------
use role SECURITYADMIN;

grant usage on warehouse LOADING_WH to role LOADER;
grant usage on warehouse TRANSFORM_WH to role TRANSFORMER;
grant usage on warehouse REPORTING_WH to role REPORTER;

grant usage on database SHOPSTREAM to role LOADER;
grant usage on database SHOPSTREAM to role TRANSFORMER;
grant usage on database SHOPSTREAM to role REPORTER;

-- raw_objects.sql starts with "create database if not exists SHOPSTREAM" and "create schema if not
-- exists SHOPSTREAM.RAW". Snowflake may check the CREATE privilege before it looks whether the object
-- exists, so these grants keep those statements from failing on the objects created above. If the
-- DAG's script stops creating the database, revoke the first one.
grant create database on account to role LOADER;
grant create schema on database SHOPSTREAM to role LOADER;

-- RAW: the load tasks create the file format, the stage and the tables, then copy and delete rows in
-- the tables they own.
grant usage, create table, create stage, create file format on schema SHOPSTREAM.RAW to role LOADER;
-- Should RAW tables ever be created under LOADER alone, dbt can still read them.
grant select on future tables in schema SHOPSTREAM.RAW to role TRANSFORMER;

-- dbt: views in STAGING and INTERMEDIATE, tables (and the temporary tables of incremental models)
-- in all three. CREATE SCHEMA lets dbt make the profile's default schema (ANALYTICS) for nodes
-- without a custom schema.
grant create schema on database SHOPSTREAM to role TRANSFORMER;
grant usage, create table, create view on schema SHOPSTREAM.STAGING to role TRANSFORMER;
grant usage, create table, create view on schema SHOPSTREAM.INTERMEDIATE to role TRANSFORMER;
grant usage, create table, create view on schema SHOPSTREAM.MARTS to role TRANSFORMER;

-- BI reads the marts only. Future grants cover what dbt recreates on every run.
grant usage on schema SHOPSTREAM.MARTS to role REPORTER;
grant select on all tables in schema SHOPSTREAM.MARTS to role REPORTER;
grant select on all views in schema SHOPSTREAM.MARTS to role REPORTER;
grant select on future tables in schema SHOPSTREAM.MARTS to role REPORTER;
grant select on future views in schema SHOPSTREAM.MARTS to role REPORTER;

-------------------------------------------------------------------------------------------------------
-- The service user of the pipeline. type = service: no password and no interactive sign-in
-- (Snowflake is retiring password-only sign-in), key-pair authentication only. The private key stays
-- with Airflow (connection snowflake_shopstream); Snowflake holds only the public key.
-- Rotation: set rsa_public_key_2 to the new key, switch the connection, then unset rsa_public_key.
-------------------------------------------------------------------------------------------------------
use role USERADMIN;

create user if not exists SHOPSTREAM_PIPELINE
    type = SERVICE
    rsa_public_key = '<paste>'
    default_role = TRANSFORMER
    default_warehouse = TRANSFORM_WH
    default_namespace = SHOPSTREAM.RAW
    comment = 'ShopStream: Airflow pipeline (connection snowflake_shopstream), key-pair only';

use role SECURITYADMIN;

grant role TRANSFORMER to user SHOPSTREAM_PIPELINE;
-- A Power BI service user would get: grant role REPORTER to user <bi-user>;

-------------------------------------------------------------------------------------------------------
-- Storage integration: Snowflake reads the landing zone by assuming an IAM role, so no AWS key is
-- stored in Snowflake and the stage (raw_objects.sql) only names the integration. Only
-- ACCOUNTADMIN (or a role with CREATE INTEGRATION) may create one. "if not exists" matters here:
-- "create or replace" would issue a new external id and break the role's trust policy.
-------------------------------------------------------------------------------------------------------
use role ACCOUNTADMIN;

create storage integration if not exists SHOPSTREAM_S3_INTEGRATION
type = external_stage
storage_provider = 'S3'
enabled = true
storage_aws_role_arn = 'arn:aws:iam::<aws-account-id>:role/<snowflake-s3-role>'
storage_allowed_locations = ('s3://<bucket>/raw/postgres/')
comment = 'ShopStream: read s3://<bucket>/raw/postgres/ (RAW stage)';

-- Copy STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID from this output into the IAM role's
-- trust policy (principal and sts:ExternalId condition): until then, the stage cannot read the bucket.
desc integration SHOPSTREAM_S3_INTEGRATION;

-- The stage is created by the load tasks, whose role must be allowed to use the integration.
grant usage on integration SHOPSTREAM_S3_INTEGRATION to role LOADER;
