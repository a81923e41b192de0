"""The report step (include/shopstream/publish.py): which task the exposure becomes, and the cloud's skip.

The embedded variant is checked in the DAG itself (tests/dags), the cloud with Power BI configured by a
parse of the cloud's DAG (tests/dags); here, the cloud without Power BI, which must say what is missing.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pendulum
import pytest
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowSkipException

from include.shopstream import publish
from include.shopstream.config import (
    CLOUD_DBT_TARGET,
    DBT_TARGET_ENV,
    EMBEDDED_DBT_TARGET,
    POWERBI_CONN_ID,
    POWERBI_VARIABLES,
    REPORT_EXPOSURE,
)

NODE = SimpleNamespace(name=REPORT_EXPOSURE)


def _task(monkeypatch: pytest.MonkeyPatch, **env: str):
    monkeypatch.setenv(DBT_TARGET_ENV, env.pop("target", CLOUD_DBT_TARGET))
    for name in POWERBI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    dag = DAG("publish_test", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"))
    return publish.report_node_converter(dag=dag, task_group=None, node=NODE, task_id="report",
                                         execution_mode="watcher", task_args={"deferrable": False})


def test_cloud_without_power_bi_skips_and_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    task = _task(monkeypatch, SHOPSTREAM_POWERBI_WORKSPACE_ID="11111111-2222-3333-4444-555555555555")
    assert task.python_callable is publish.skip_refresh
    assert "skipped" in task.doc_md
    with caplog.at_level(logging.WARNING), pytest.raises(AirflowSkipException) as skipped:
        task.python_callable()
    message = str(skipped.value)
    assert message.startswith("Power BI refresh skipped: SHOPSTREAM_POWERBI_DATASET_ID is not set.")
    assert POWERBI_CONN_ID in message and "docs/powerbi.md" in message
    assert message in caplog.text


def test_cloud_with_power_bi_refreshes_the_semantic_model(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("airflow.providers.microsoft.azure", reason="cloud only: the Azure provider is in the "
                        "Astro image, not the embedded venv (requirements/cloud-only.txt); tests/astro runs this")
    from airflow.providers.microsoft.azure.operators.powerbi import PowerBIDatasetRefreshOperator

    task = _task(monkeypatch, SHOPSTREAM_POWERBI_WORKSPACE_ID=" ws-guid ", SHOPSTREAM_POWERBI_DATASET_ID="ds-guid")
    assert isinstance(task, PowerBIDatasetRefreshOperator)
    assert (task.group_id, task.dataset_id, task.conn_id) == ("ws-guid", "ds-guid", POWERBI_CONN_ID)
    assert task.wait_for_completion and task.retries == 2
    assert task.timeout == task.execution_timeout.total_seconds()


def test_embedded_renders_the_previews_whatever_power_bi_says(monkeypatch: pytest.MonkeyPatch) -> None:
    task = _task(monkeypatch, target=EMBEDDED_DBT_TARGET,
                 SHOPSTREAM_POWERBI_WORKSPACE_ID="w", SHOPSTREAM_POWERBI_DATASET_ID="d")
    assert task.python_callable is publish.render_previews
    assert task.retries == 0
