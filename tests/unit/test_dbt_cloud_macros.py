"""On the cloud target, dbt runs dbt-snowflake's own macros: the emulator's shims never reach it.

The fakesnow shims (include/dbt/shopstream/emulator_shims/) are root-project versions of dbt-snowflake
macros, read only when the target is `embedded` (`macro-paths` in dbt_project.yml). A root-project
macro named like an adapter or dbt-core macro replaces it for every model, so this test compiles the
project with the cloud target (placeholder credentials: neither the parse nor the compile below opens
a connection) and checks:

- by name, in the manifest: no project macro shares a name with a dbt-snowflake or dbt-core macro,
  save `generate_schema_name`, the hook dbt documents for overriding (docs/warehouse.md);
- by content: what the incremental materialization and the snapshot materialization call (the
  temporary-relation type, the temporary table, the incremental MERGE, the snapshot MERGE) renders,
  for `fct_orders` and `snap_users`, exactly the SQL of dbt-snowflake's own macros, reached by the
  `dbt.` namespace that no project macro can shadow: `create or replace temporary table`, MERGE
  between `begin;` and `commit;`;
- the marts' masking post-hook renders its policy (it renders nothing on the emulator only, whose
  shims say it has no masking policies).

Tried by hand: the old shims (a faithful copy of dbt-snowflake's SQL on the cloud) put back under
macros/ fail the name check; the emulator's shims put there fail every check. With `--target
embedded` the same probe renders the shims' SQL (a transient table, a bare MERGE).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from include.shopstream import dbt_manifest
from include.shopstream.config import CLOUD_DBT_TARGET, DBT_PROJECT_DIR, dbt_executable

# Root-project macros that may share a name with dbt's: dbt documents overriding this one
# (custom schema names, macros/generate_schema_name.sql). Nothing else.
DOCUMENTED_OVERRIDES = {"generate_schema_name"}

# The adapter macros the emulator shims replace on the embedded target (emulator_shims/*.sql).
SHIMMED_ADAPTER_MACROS = (
    "dbt_snowflake_get_tmp_relation_type",
    "snowflake__create_table_temporary_sql",
    "snowflake__get_merge_sql",
    "snowflake__snapshot_merge_sql",
)

# Each probe renders, for a real model and snapshot of the project, what dbt-snowflake's
# materializations call (resolved as they resolve it) and, after `=====`, the adapter's own macro.
PROBE = """
{%- set fact = ref('fct_orders') -%}
{%- set staging = make_temp_relation(fact) -%}
{%- set snapshot = ref('snap_users') -%}
{%- set columns = [] -%}
{%- for column in graph.nodes['model.shopstream.fct_orders'].columns.values() -%}
    {%- do columns.append(api.Column(column.name, column.data_type)) -%}
{%- endfor -%}
{%- set insert_cols = ['USER_ID', 'EMAIL', 'DBT_SCD_ID', 'DBT_UPDATED_AT', 'DBT_VALID_FROM', 'DBT_VALID_TO'] -%}
-- probe: tmp_relation_type
{{ dbt_snowflake_get_tmp_relation_type('merge', 'order_id', 'sql') }}
=====
{{ dbt.dbt_snowflake_get_tmp_relation_type('merge', 'order_id', 'sql') }}
-- probe: temporary_table
{{ create_table_as(True, staging, 'select 1 as order_id') }}
=====
{{ dbt.snowflake__create_table_temporary_sql(staging, 'select 1 as order_id') }}
-- probe: incremental_merge
{{ get_merge_sql(fact, staging, 'order_id', columns, none) }}
=====
{{ dbt.snowflake__get_merge_sql(fact, staging, 'order_id', columns, none) }}
-- probe: snapshot_merge
{{ snapshot_merge_sql(snapshot, staging, insert_cols) }}
=====
{{ dbt.snowflake__snapshot_merge_sql(snapshot, staging, insert_cols) }}
-- probe: pii_masking
{{ apply_pii_masking(ref('dim_customers'), ['customer_sk', 'email', 'full_name']) }}
"""

# The cloud profile's required variables (profiles.yml), as tools/build_dbt_manifest.sh sets them
# for the image's parse. Nothing here is a credential, and nothing connects.
PLACEHOLDER_CLOUD_ENV = {
    "SNOWFLAKE_ACCOUNT": "test-placeholder",
    "SNOWFLAKE_USER": "test-placeholder",
    # dbt's role: the masking policy must name the profile's, whatever it is.
    "SNOWFLAKE_ROLE": "TEST_DBT_ROLE",
    "SNOWFLAKE_PRIVATE_KEY_PATH": "/dev/null",
    "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": "test-placeholder",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
}


def _sql(text: str) -> str:
    """SQL with its whitespace collapsed and dbt's back-compat comment dropped (layout is not behaviour)."""
    text = re.sub(r"--[^\n]*back compat[^\n]*\n", "", text)
    return " ".join(text.split())


@pytest.fixture(scope="module")
def cloud_compile(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, tuple[str, str]], Mapping[str, Any]]:
    """The probes rendered with the cloud target, as {name: (resolved SQL, adapter's SQL)}, and the manifest.

    One `dbt compile --inline` (a full parse, about 20 s): a fresh target folder, so no partial parse
    of another target is reused.
    """
    dbt = Path(dbt_executable())
    assert dbt.exists(), f"{dbt} missing: install requirements/dbt.txt into the dbt venv"
    scratch = tmp_path_factory.mktemp("dbt-cloud")
    result = subprocess.run(
        [str(dbt), "compile", "--quiet", "--no-populate-cache", "--profiles-dir", ".", "--target", CLOUD_DBT_TARGET,
         "--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs"), "--inline", PROBE],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **PLACEHOLDER_CLOUD_ENV},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    probes: dict[str, tuple[str, str]] = {}
    for block in re.split(r"^-- probe: ", result.stdout, flags=re.MULTILINE)[1:]:
        name, _, body = block.partition("\n")
        resolved, _, adapter = body.partition("=====")
        probes[name.strip()] = (_sql(resolved), _sql(adapter))
    manifest = dbt_manifest.load(scratch / "target" / "manifest.json").data
    return probes, manifest


def test_no_project_macro_shadows_an_adapter_or_dbt_macro(cloud_compile: tuple[dict, dict]) -> None:
    _, manifest = cloud_compile
    macros = manifest["macros"].values()
    assert manifest["metadata"]["adapter_type"] == "snowflake"
    builtin = {m["name"] for m in macros if m["package_name"] in ("dbt", "dbt_snowflake")}
    adapter = {m["name"] for m in macros if m["package_name"] == "dbt_snowflake"}
    missing = [name for name in SHIMMED_ADAPTER_MACROS if name not in adapter]
    assert not missing, f"dbt-snowflake no longer defines {missing}: review emulator_shims/ against it"

    project = [m for m in macros if m["package_name"] == "shopstream"]
    shadowing = sorted(m["name"] for m in project if m["name"] in builtin and m["name"] not in DOCUMENTED_OVERRIDES)
    assert not shadowing, (
        f"on the cloud target, project macros replace dbt's or dbt-snowflake's: {shadowing}. An emulator "
        "workaround belongs in emulator_shims/ (read on the embedded target only); anything else, rename it."
    )
    from_shims = sorted(path for m in project if (path := m["original_file_path"]).startswith("emulator_shims/"))
    assert not from_shims, f"the emulator shims are part of the cloud project: {from_shims}"


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        ("tmp_relation_type", r"^view$"),
        ("temporary_table", r"^create or replace temporary table SHOPSTREAM\.MARTS\.fct_orders__dbt_tmp as \("),
        ("incremental_merge", r"^begin; merge into SHOPSTREAM\.MARTS\.fct_orders as DBT_INTERNAL_DEST .* commit;$"),
        ("snapshot_merge", r"^begin; merge into SHOPSTREAM\.SNAPSHOTS\.snap_users as DBT_INTERNAL_DEST .* commit;$"),
    ],
)
def test_cloud_renders_dbt_snowflakes_own_sql(cloud_compile: tuple[dict, dict], probe: str, expected: str) -> None:
    probes, _ = cloud_compile
    assert probe in probes, f"probe {probe!r} missing from dbt's output: {sorted(probes)}"
    resolved, adapter = probes[probe]
    assert resolved == adapter, f"{probe}: the cloud target renders\n{resolved}\nbut dbt-snowflake renders\n{adapter}"
    assert re.search(expected, resolved), f"{probe}: not dbt-snowflake's usual SQL ({expected}):\n{resolved}"


def test_cloud_masks_the_marts_personal_data(cloud_compile: tuple[dict, dict]) -> None:
    probes, _ = cloud_compile
    sql, _ = probes["pii_masking"]
    policy = "SHOPSTREAM.MARTS.PII_STRING_MASK"
    assert sql.startswith(f"create masking policy if not exists {policy} as (val string) returns string"), sql
    assert f"is_role_in_session('{PLACEHOLDER_CLOUD_ENV['SNOWFLAKE_ROLE']}')" in sql, (
        f"the policy does not read personal data in clear for the profile's role: {sql}")
    assert sql.endswith(
        f"alter table SHOPSTREAM.MARTS.dim_customers modify column email set masking policy {policy} force, "
        f"column full_name set masking policy {policy} force;"
    ), sql
