-- The data tests whose latest result is not a pass (warn, fail, error), one row per test, for the
-- report's data-quality page.
--
-- dbt writes the rows, not this query: the on-run-end hook `record_test_results` (macros/
-- test_results.sql) replaces the rows of every test the invocation ran with its non-passing results.
-- This model only creates the table, empty and typed by its contract. A build that selects it
-- rebuilds it empty (a table, as every mart); every test that build runs is then recorded again.
select
    null::varchar as test_id,
    null::varchar as test_type,
    null::varchar as tested_model,
    null::varchar as column_name,
    null::varchar as severity,
    null::varchar as status,
    null::number(38, 0) as failures,
    null::varchar as message,
    null::timestamp_ntz as checked_at,
    null::varchar as invocation_id

where false
