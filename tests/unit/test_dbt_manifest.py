"""The one reader of the dbt manifest (include/shopstream/dbt_manifest.py), on small manifests written here."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from include.shopstream import dbt_manifest


def _node(name: str, resource_type: str = "model", materialized: str = "table", folder: str = "marts",
          **extra: object) -> dict:
    return {"name": name, "resource_type": resource_type, "database": "shopstream", "schema": folder,
            "alias": name, "path": f"{folder}/{name}.sql", "fqn": ["shopstream", folder, name],
            "config": {"enabled": True, "materialized": materialized}, **extra}


MANIFEST = {
    "nodes": {
        "model.shopstream.fct_orders": _node("fct_orders"),
        "model.shopstream.int_orders": _node("int_orders", materialized="ephemeral", folder="intermediate"),
        "model.shopstream.stg_orders": _node("stg_orders", materialized="view", folder="staging"),
        "snapshot.shopstream.snap_users": _node("snap_users", "snapshot", "snapshot", "snapshots"),
        "test.shopstream.relationships_x": _node("relationships_x", "test", "test",
                                                 attached_node="model.shopstream.fct_orders"),
        "test.shopstream.assert_revenue": _node("assert_revenue", "test", "test"),
    },
    "sources": {"source.shopstream.raw.orders": {"resource_type": "source", "name": "orders"}},
    "exposures": {"exposure.shopstream.report": {"name": "report", "depends_on": {
        "nodes": ["model.shopstream.fct_orders"]}}},
}


@pytest.fixture
def written(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(MANIFEST))
    return path


def test_accessors_read_what_dbt_wrote(written: Path) -> None:
    manifest = dbt_manifest.load(written)
    # Built relations only: the ephemeral model and the tests have none.
    assert manifest.relations() == {"fct_orders": "SHOPSTREAM.MARTS.FCT_ORDERS",
                                    "stg_orders": "SHOPSTREAM.STAGING.STG_ORDERS",
                                    "snap_users": "SHOPSTREAM.SNAPSHOTS.SNAP_USERS"}
    assert manifest.test_attached_nodes() == {"test.shopstream.relationships_x": "model.shopstream.fct_orders",
                                              "test.shopstream.assert_revenue": None}
    assert [n["name"] for n in manifest.models_in_folder("marts")] == ["fct_orders"]
    assert list(manifest.nodes("snapshot")) == ["snapshot.shopstream.snap_users"]
    assert manifest.exposure_models("report") == ["fct_orders"]
    with pytest.raises(KeyError, match="no exposure named 'sales'"):
        manifest.exposure_models("sales")
    assert manifest.resource_counts() == {"model": 3, "snapshot": 1, "test": 2, "source": 1, "exposure": 1}


def test_read_once_per_version_of_the_file(written: Path) -> None:
    first = dbt_manifest.load(written)
    assert dbt_manifest.load(written) is first  # parsed once
    changed = {**MANIFEST, "exposures": {}}
    written.write_text(json.dumps(changed))
    stat = written.stat()
    os.utime(written, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a rebuild, a second later
    assert dbt_manifest.load(written).data == changed  # a rebuilt manifest is read again


def test_a_missing_or_broken_manifest_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(dbt_manifest.ManifestMissing, match=r"no dbt manifest at .*run `make manifest`"):
        dbt_manifest.load(tmp_path / "manifest.json")
    broken = tmp_path / "cut.json"
    broken.write_text('{"nodes": {')
    with pytest.raises(ValueError, match=r"cut.json is not a dbt manifest .*`make manifest`"):
        dbt_manifest.load(broken)
