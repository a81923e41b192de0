"""The cloud's dbt docs path, on the embedded stack's S3 server: the files `publish_dbt_docs` uploads
are the files Cosmos' Airflow 3 plugin serves from the bucket with the cloud's setting
(config.dbt_docs_projects_setting), through the connection `aws_shopstream`.

What this cannot show: `dbt docs generate` against Snowflake (the task's first half, the same Cosmos
operator as every dbt task) and AWS itself; the S3 API, the connection, s3fs and the plugin are real.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from include.shopstream.config import (
    CLOUD_DBT_TARGET,
    DBT_DOCS_PROJECT,
    DBT_PROJECT_DIR,
    DBT_TARGET_ENV,
    dbt_docs_projects_setting,
)

DOCS_FILES = ("index.html", "manifest.json", "catalog.json")


@pytest.mark.integration
def test_published_dbt_docs_are_served_from_the_bucket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    # What `dbt docs generate` leaves in the project copy Cosmos runs it in: here the site `make manifest`
    # built, its index marked so that only this upload can be what the plugin serves.
    target = tmp_path / "project" / "target"
    target.mkdir(parents=True)
    for name in DOCS_FILES:
        shutil.copy(DBT_PROJECT_DIR / "target" / name, target / name)
    marker = f"<!-- shopstream docs upload {uuid.uuid4()} -->"
    (target / "index.html").write_text((target / "index.html").read_text() + marker)

    monkeypatch.setenv(DBT_TARGET_ENV, CLOUD_DBT_TARGET)
    # Airflow before Cosmos: Airflow's start-up loads Cosmos' plugin, which a first import of Cosmos
    # would otherwise reach half-initialised (when this file runs alone).
    import airflow  # noqa: F401

    from include.shopstream.transform import publish_dbt_docs_task

    publish_dbt_docs_task().upload_to_cloud_storage(str(tmp_path / "project"))

    monkeypatch.setenv("AIRFLOW__COSMOS__DBT_DOCS_PROJECTS", dbt_docs_projects_setting())
    from cosmos.plugin.airflow3 import create_cosmos_fastapi_app

    client = TestClient(create_cosmos_fastapi_app())
    index = client.get(f"/{DBT_DOCS_PROJECT}/dbt_docs_index.html")
    assert index.status_code == 200, index.text[:500]
    assert marker in index.text
    for name in ("manifest.json", "catalog.json"):
        served = client.get(f"/{DBT_DOCS_PROJECT}/{name}")
        assert served.status_code == 200, served.text[:500]
        assert served.json() == json.loads((target / name).read_text()), f"{name} served is not the one uploaded"
