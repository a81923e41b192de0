"""The report step: the dbt exposure of the Power BI report becomes the task that publishes it.

The dbt project declares the report as an exposure (``models/exposures.yml``) on the marts it reads.
Cosmos renders models, sources, snapshots and tests by itself, but has no task for an exposure: it
logs "Unavailable conversion function for <exposure>" at every parse and leaves the report out of
the DAG. ``report_node_converter`` is the converter Cosmos calls instead (``RenderConfig(
node_converters={DbtResourceType.EXPOSURE: ...})``): the task it returns sits in the ``dbt`` group,
downstream of every mart the exposure depends on (Cosmos wires it from the exposure's
``depends_on``), so it runs once their models and tests have passed, and never after a failed one.

What the task does depends on where the DAG runs, decided when the DAG is parsed:

- **embedded** (``SHOPSTREAM_DBT_TARGET=embedded``): renders the report's page previews from the new
  marts into ``config.report_previews_dir()`` (``output/report/``: a PNG per page, ``index.html``,
  ``totals.json``), since Power BI Desktop does not run here;
- **cloud, Power BI configured** (``SHOPSTREAM_POWERBI_WORKSPACE_ID`` and
  ``SHOPSTREAM_POWERBI_DATASET_ID`` set): refreshes the published semantic model with the Microsoft
  Azure provider's ``PowerBIDatasetRefreshOperator`` through the ``powerbi_shopstream`` connection,
  and waits for the refresh to end (the operator defers to the triggerer while it waits);
- **cloud, not configured**: the task logs which variable is missing and ends as *skipped*: the
  marts are published, nothing refreshes the report.

The previews need the report tooling's local-only packages (matplotlib, requirements/airflow-local.txt),
which the Astro image does not carry: they are imported inside the embedded task's callable only, so
neither the cloud's DAG parse nor its tasks import them.
"""

from __future__ import annotations

import logging
from typing import Any

from include.shopstream.config import (
    POWERBI_CONN_ID,
    REPORT_TIMEOUT,
    is_embedded,
    powerbi_missing_variables,
    powerbi_target,
    report_previews_dir,
)

log = logging.getLogger(__name__)

# How often the refresh's trigger asks the Power BI service for the refresh's status (seconds).
POWERBI_CHECK_INTERVAL_S = 30


def report_node_converter(*, dag: Any, task_group: Any, node: Any, task_id: str, **_cosmos: Any) -> Any:
    """Cosmos node converter for the report's exposure: the task that publishes the report.

    Cosmos calls it with ``dag``, ``task_group`` (the ``dbt`` group), the exposure's ``node`` and the
    ``task_id`` it chose (``<exposure>_exposure``), plus rendering settings that do not apply to a
    task that runs no dbt (``**_cosmos``). Returns the operator, created in that group; Cosmos then
    sets it downstream of the tasks of every node the exposure depends on.
    """
    common: dict[str, Any] = {
        "task_id": task_id,
        "dag": dag,
        "task_group": task_group,
        "execution_timeout": REPORT_TIMEOUT,
        "doc_md": f"Publishes the dbt exposure `{node.name}` (models/exposures.yml): {_what_it_does()}",
    }
    if is_embedded():
        from airflow.providers.standard.operators.python import PythonOperator

        # Rendering is deterministic: a failure would fail the same way again.
        return PythonOperator(python_callable=render_previews, retries=0, **common)
    target = powerbi_target()
    if target is None:
        from airflow.providers.standard.operators.python import PythonOperator

        return PythonOperator(python_callable=skip_refresh, retries=0, **common)
    from airflow.providers.microsoft.azure.operators.powerbi import PowerBIDatasetRefreshOperator

    return PowerBIDatasetRefreshOperator(
        conn_id=POWERBI_CONN_ID,
        group_id=target.workspace_id,
        dataset_id=target.dataset_id,
        wait_for_completion=True,
        timeout=REPORT_TIMEOUT.total_seconds(),
        check_interval=POWERBI_CHECK_INTERVAL_S,
        deferrable=True,  # the operator always defers; saying so spares its warning at every parse
        # A refresh is a call to a web service: a dropped connection or a busy capacity deserves another try.
        retries=2,
        retry_exponential_backoff=True,
        **common,
    )


def _what_it_does() -> str:
    if is_embedded():
        return f"renders the report's page previews from the marts into {report_previews_dir()}."
    target = powerbi_target()
    if target is None:
        return "skipped: no Power BI workspace and dataset are configured (docs/powerbi.md)."
    return (f"refreshes the Power BI semantic model {target.dataset_id} of workspace {target.workspace_id} "
            f"through the connection {POWERBI_CONN_ID}.")


def render_previews() -> dict[str, Any]:
    """Embedded stack only: render the page previews from the marts just built.

    Returns the totals the previews show (revenue, orders, average basket, customers: the
    ``totals`` of ``totals.json``), which Airflow keeps as the task's XCom. Raises RuntimeError when
    a mart the report reads is missing from the warehouse, and AirflowSkipException where the report
    tooling is not installed (an Astro image run with docker-compose.override.yml's stand-ins).
    """
    try:
        from report_tools import previews
    except ModuleNotFoundError as exc:
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(
            f"Report previews skipped: {exc.name} is not installed here. The previews are local tooling "
            "(report_tools/, requirements/airflow-local.txt) that the Astro image does not ship; "
            "`make run` renders them on the embedded stack."
        ) from exc

    out = report_previews_dir()
    content = previews.render_from_warehouse(out)
    log.info("Report previews (%d pages) written to %s: %s", len(content["pages"]), out,
             ", ".join(page["png"] for page in content["pages"].values()))
    return content["totals"]


def skip_refresh() -> None:
    """Cloud without a configured semantic model: say what is missing, and end the task as skipped."""
    from airflow.sdk.exceptions import AirflowSkipException

    missing = powerbi_missing_variables()
    why = (f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set" if missing
           else "the Power BI variables were set after this DAG version was parsed (the next parse adds the refresh)")
    message = (f"Power BI refresh skipped: {why}. Set SHOPSTREAM_POWERBI_WORKSPACE_ID, "
               f"SHOPSTREAM_POWERBI_DATASET_ID and the connection {POWERBI_CONN_ID} to refresh the semantic "
               "model after each run (docs/powerbi.md).")
    log.warning(message)
    raise AirflowSkipException(message)
