-- ShopStream: the one-time account setup on a real Snowflake account, run by an administrator
-- (a user with ACCOUNTADMIN) before the first deployment. Idempotent: objects are created
-- "if not exists", settings are applied with "alter ... set" and grants/revokes converge, so
-- re-running it on an account set up by an earlier version brings it to this version.
-- The embedded stack never runs it. tests/unit/test_snowflake_grants.py parses it and fails on any
-- grant wider than the matrix in docs/cloud.md.
--
-- Replace the placeholders first:
--   <paste>                 body of rsa_key.pub, without its BEGIN/END lines (docs/cloud.md, key pair)
--   <aws-account-id>, <snowflake-s3-role>   the IAM role Snowflake assumes to read the bucket
--   <bucket>                the landing bucket (SHOPSTREAM_S3_BUCKET)
--   192.0.2.0/24, 198.51.100.0/24   documentation-only IP ranges (RFC 5737) in the network policy:
--                           replace them by the egress IPs of the Airflow Deployment, or the pipeline
--                           user cannot sign in (the policy fails closed)
--
-- Roles and who uses them: the service user SHOPSTREAM_PIPELINE holds LOADER and TRANSFORMER, two
-- separate roles (TRANSFORMER does not inherit LOADER). Load tasks run with role LOADER on LOADING_WH,
-- dbt (Cosmos) with role TRANSFORMER on TRANSFORM_WH. REPORTER reads MARTS (Power BI), with customers'
-- personal data masked by the policies dbt applies (macros/masking.sql). docs/cloud.md, "Least
-- privilege", explains the choice and the grants matrix.

-------------------------------------------------------------------------------------------------------
-- Account parameters: external stages only through a storage integration (no inline AWS keys), and
-- no COPY INTO an arbitrary URL (no unload of the warehouse to someone else's bucket).
-------------------------------------------------------------------------------------------------------
use role ACCOUNTADMIN;

alter account set require_storage_integration_for_stage_creation = true;
alter account set require_storage_integration_for_stage_operation = true;
alter account set prevent_unload_to_inline_url = true;

-------------------------------------------------------------------------------------------------------
-- Roles. Granting them to SYSADMIN keeps the objects they own manageable by the admins.
-------------------------------------------------------------------------------------------------------
use role SECURITYADMIN;

create role if not exists LOADER comment = 'ShopStream: lands S3 files into SHOPSTREAM.RAW';
create role if not exists TRANSFORMER comment = 'ShopStream: dbt, reads RAW, owns STAGING, INTERMEDIATE, MARTS, SNAPSHOTS';
create role if not exists REPORTER comment = 'ShopStream: reads SHOPSTREAM.MARTS (Power BI), personal data masked';

grant role LOADER to role SYSADMIN;
grant role TRANSFORMER to role SYSADMIN;
grant role REPORTER to role SYSADMIN;

-------------------------------------------------------------------------------------------------------
-- Warehouses: one per workload, so each one's cost is visible and a slow dashboard never queues a
-- load. X-Small suffices for this volume; suspended after 60 s idle, resumed by the next query.
-- The timeouts bound a hung statement (Snowflake's default is two days, which with max_active_runs=1
-- would stop every later day): a COPY of one day, a full rebuild of the largest model, a dashboard
-- query, each with margin. "alter" rather than create options, so a re-run updates older warehouses.
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
comment = 'ShopStream: dbt (role TRANSFORMER)';

create warehouse if not exists REPORTING_WH
warehouse_size = XSMALL
auto_suspend = 60
auto_resume = true
initially_suspended = true
comment = 'ShopStream: BI queries on MARTS (role REPORTER)';

alter warehouse LOADING_WH set statement_timeout_in_seconds = 900, statement_queued_timeout_in_seconds = 600;
alter warehouse TRANSFORM_WH set statement_timeout_in_seconds = 1800, statement_queued_timeout_in_seconds = 600;
alter warehouse REPORTING_WH set statement_timeout_in_seconds = 300, statement_queued_timeout_in_seconds = 120;

-------------------------------------------------------------------------------------------------------
-- Database and schemas. SYSADMIN owns the database and RAW, so the pipeline can drop neither.
-- TRANSFORMER owns the dbt schemas (the names dbt really uses: dbt_project.yml and
-- macros/generate_schema_name.sql map STAGING, INTERMEDIATE, MARTS and SNAPSHOTS as they are), so it
-- creates its tables, views and masking policies there without any database-level right. No dbt
-- node writes to the profile's default schema (ANALYTICS) or stores test failures: if one ever does,
-- create that schema here too rather than grant CREATE SCHEMA on the database.
-------------------------------------------------------------------------------------------------------
create database if not exists SHOPSTREAM comment = 'ShopStream: PostgreSQL OLTP -> S3 -> RAW -> dbt';
create schema if not exists SHOPSTREAM.RAW comment = 'Every extracted version of every source row, as loaded';
create schema if not exists SHOPSTREAM.STAGING comment = 'dbt views: typed, latest version per key';
create schema if not exists SHOPSTREAM.INTERMEDIATE comment = 'dbt: business logic between staging and marts';
create schema if not exists SHOPSTREAM.MARTS comment = 'dbt tables: star schema and business marts';
create schema if not exists SHOPSTREAM.SNAPSHOTS comment = 'dbt snapshots: SCD2 history of users and products';

-------------------------------------------------------------------------------------------------------
-- Storage integration: Snowflake reads the landing zone by assuming an IAM role, so no AWS key is
-- stored in Snowflake. "if not exists" matters here: "create or replace" would issue a new external
-- id and break the role's trust policy.
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

-- Only the admins create the stage that uses it; the pipeline roles get the stage, not the integration.
grant usage on integration SHOPSTREAM_S3_INTEGRATION to role SYSADMIN;

-------------------------------------------------------------------------------------------------------
-- The RAW stage and file format (names as in include/shopstream/config.py), owned by SYSADMIN: the
-- pipeline may read through the stage but can neither repoint it nor create another one.
-------------------------------------------------------------------------------------------------------
use role SYSADMIN;

create file format if not exists SHOPSTREAM.RAW.PARQUET_FORMAT
type = parquet;

create stage if not exists SHOPSTREAM.RAW.SHOPSTREAM_S3
url = 's3://<bucket>/raw/postgres/'
storage_integration = SHOPSTREAM_S3_INTEGRATION
comment = 'ShopStream: the landing zone (S3), through the storage integration';

-------------------------------------------------------------------------------------------------------
-- Grants (SECURITYADMIN holds MANAGE GRANTS, which future grants need). This block is the whole
-- grants matrix of docs/cloud.md; the test compares the two.
-------------------------------------------------------------------------------------------------------
use role SECURITYADMIN;

grant usage on warehouse LOADING_WH to role LOADER;
grant usage on warehouse TRANSFORM_WH to role TRANSFORMER;
grant usage on warehouse REPORTING_WH to role REPORTER;

grant usage on database SHOPSTREAM to role LOADER;
grant usage on database SHOPSTREAM to role TRANSFORMER;
grant usage on database SHOPSTREAM to role REPORTER;

-- LOADER writes RAW only: it creates the RAW and landing tables (setup_warehouse), copies each run's
-- file into a landing table, inserts the row versions RAW lacks, then deletes the file's landing rows.
-- RAW tables created by earlier versions' single-role pipeline belong to TRANSFORMER: hand them to
-- LOADER first (it creates, so owns, every new one), then grant TRANSFORMER's reads below.
grant ownership on all tables in schema SHOPSTREAM.RAW to role LOADER copy current grants;
grant usage, create table on schema SHOPSTREAM.RAW to role LOADER;
grant select, insert, delete, truncate on all tables in schema SHOPSTREAM.RAW to role LOADER;
grant select, insert, delete, truncate on future tables in schema SHOPSTREAM.RAW to role LOADER;
grant usage on stage SHOPSTREAM.RAW.SHOPSTREAM_S3 to role LOADER;
grant usage on file format SHOPSTREAM.RAW.PARQUET_FORMAT to role LOADER;

-- TRANSFORMER reads RAW (dbt sources and their freshness checks) and owns its own schemas.
grant usage on schema SHOPSTREAM.RAW to role TRANSFORMER;
grant select on all tables in schema SHOPSTREAM.RAW to role TRANSFORMER;
grant select on future tables in schema SHOPSTREAM.RAW to role TRANSFORMER;
grant ownership on schema SHOPSTREAM.STAGING to role TRANSFORMER copy current grants;
grant ownership on schema SHOPSTREAM.INTERMEDIATE to role TRANSFORMER copy current grants;
grant ownership on schema SHOPSTREAM.MARTS to role TRANSFORMER copy current grants;
grant ownership on schema SHOPSTREAM.SNAPSHOTS to role TRANSFORMER copy current grants;

-- BI reads the marts only. Future grants cover what dbt recreates on every run.
grant usage on schema SHOPSTREAM.MARTS to role REPORTER;
grant select on all tables in schema SHOPSTREAM.MARTS to role REPORTER;
grant select on all views in schema SHOPSTREAM.MARTS to role REPORTER;
grant select on future tables in schema SHOPSTREAM.MARTS to role REPORTER;
grant select on future views in schema SHOPSTREAM.MARTS to role REPORTER;

-------------------------------------------------------------------------------------------------------
-- Wider grants made by earlier versions of this script, revoked so that a re-run converges
-- (revoking a privilege that is not held is a no-op).
-------------------------------------------------------------------------------------------------------
revoke role LOADER from role TRANSFORMER;
revoke create database on account from role LOADER;
revoke create schema on database SHOPSTREAM from role LOADER;
revoke create schema on database SHOPSTREAM from role TRANSFORMER;
revoke create stage, create file format on schema SHOPSTREAM.RAW from role LOADER;
revoke usage on integration SHOPSTREAM_S3_INTEGRATION from role LOADER;

-------------------------------------------------------------------------------------------------------
-- The service user of the pipeline. type = service: no password and no interactive sign-in
-- (Snowflake is retiring password-only sign-in), key-pair authentication only. The private key stays
-- with Airflow (connection snowflake_shopstream); Snowflake holds only the public key.
-- Rotation: set rsa_public_key_2 to the new key, switch the connection, then unset rsa_public_key.
-- No secondary roles: each task works with the one role it names, so a dbt session cannot write RAW.
-------------------------------------------------------------------------------------------------------
use role USERADMIN;

create user if not exists SHOPSTREAM_PIPELINE
    type = SERVICE
    rsa_public_key = '<paste>'
    default_role = TRANSFORMER
    default_warehouse = TRANSFORM_WH
    default_namespace = SHOPSTREAM.RAW
    comment = 'ShopStream: Airflow pipeline (connection snowflake_shopstream), key-pair only';

alter user SHOPSTREAM_PIPELINE set default_secondary_roles = ();

use role SECURITYADMIN;

grant role LOADER to user SHOPSTREAM_PIPELINE;
grant role TRANSFORMER to user SHOPSTREAM_PIPELINE;
-- A Power BI service user would get: grant role REPORTER to user <bi-user>;

-- The pipeline signs in from the Airflow Deployment only. Placeholders (RFC 5737 documentation
-- ranges): replace them by the Deployment's egress IPs (Astro: the cluster's external IPs).
create network policy if not exists SHOPSTREAM_PIPELINE_NETWORK
allowed_ip_list = ('192.0.2.0/24', '198.51.100.0/24')
comment = 'ShopStream: where the pipeline service user may sign in from';

alter user SHOPSTREAM_PIPELINE set network_policy = SHOPSTREAM_PIPELINE_NETWORK;
