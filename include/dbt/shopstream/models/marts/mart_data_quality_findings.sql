-- The data tests whose latest result is not a pass (warn, fail, error), one row per test, for the
-- report's data-quality page.
--
-- dbt writes the rows, not this query: the on-run-end hook `record_test_results` (macros/
-- test_results.sql) replaces the rows of every test the invocation ran with its non-passing results.
-- This model only creates the table, empty and typed by its contract. A build that selects it
-- rebuilds it empty (a table, as every mart); every test that build runs is then recorded again.
select
    cast(null as varchar) as test_id,
    cast(null as varchar) as test_type,
    cast(null as varchar) as tested_model,
    cast(null as varchar) as column_name,
    cast(null as varchar) as severity,
    cast(null as varchar) as status,
    cast(null as number(38, 0)) as failures,
    cast(null as varchar) as message,
    cast(null as timestamp_ntz) as checked_at,
    cast(null as varchar) as invocation_id

where false
