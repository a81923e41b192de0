# ShopStream on Astro Runtime: the image that `astro dev start`, `astro dev pytest` and `astro deploy`
# build. Written from Astronomer's documentation; this repository's CI has no Docker engine, so the
# tested run is the embedded one (`make run`).
#
# Image and tag. Runtime images for Airflow 3 are published as astrocrpublic.azurecr.io/runtime
# (Airflow 2 ones stay at quay.io/astronomer/astro-runtime) and tagged <major>.<minor>-<patch>:
# "3.3" is the Airflow minor release, the number after the hyphen is Astronomer's own patch level
# (the hyphen keeps Runtime versions from being read as Airflow versions). 3.3-2 is the newest 3.3
# patch listed in Astronomer's provider reference when this was written. The project targets Airflow
# 3.3.2 (requirements/airflow-local.txt): check with `astro dev run version`, and move to the 3.3-x
# whose release notes name Airflow 3.3.2 if they differ. A Runtime image pins its own Airflow, so
# requirements.txt must not (and does not) name apache-airflow.
#
# The standard image copies the project in ONBUILD steps that run right after FROM: packages.txt
# (apt), requirements.txt (pip, into Airflow's environment), then the whole build context, owned by
# astro. So requirements/dbt.txt and include/ are already in /usr/local/airflow below.
FROM astrocrpublic.azurecr.io/runtime:3.3-2

# `source` in the documented venv recipe is a bash builtin; pipefail makes a failing pipe fail the build.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Read by the DAG (include/shopstream/config.py, transform.py). A Deployment's environment variables
# override these; docker-compose.override.yml overrides the target for the local stand-ins.
ENV SHOPSTREAM_DBT_EXECUTABLE=/usr/local/airflow/dbt_venv/bin/dbt \
    SHOPSTREAM_DBT_TARGET=cloud \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    AIRFLOW__COSMOS__ENABLE_DAG_VERSIONING=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    AIRFLOW__COSMOS__DBT_DOCS_PROJECTS='{"shopstream": {"dir": "/usr/local/airflow/include/dbt/shopstream/target", "index": "index.html", "name": "dbt Docs (ShopStream)"}}'

# Run as the image's Airflow user so that the venv and the manifest belong to it.
USER astro

# dbt in its own venv, the way Astronomer documents it for Cosmos (ExecutionConfig.dbt_executable_path):
# dbt's pins never move Airflow's. requirements/dbt.txt pins dbt-core 1.12.0 with
# dbt-core-experimental-parser 2.0.0a4 because later cores need a parser that only builds online.
RUN python -m venv dbt_venv && source dbt_venv/bin/activate && \
    pip install --no-cache-dir -r requirements/dbt.txt && deactivate

# The manifest Cosmos renders the DAG from (LoadMode.DBT_MANIFEST), built from the code in this image so
# it can never be stale. `dbt parse` opens no connection; the embedded target's env vars have defaults.
# .dockerignore keeps the host's target/ out of the build context.
RUN cd include/dbt/shopstream && \
    /usr/local/airflow/dbt_venv/bin/dbt parse --profiles-dir . --target embedded && \
    /usr/local/airflow/dbt_venv/bin/dbt docs generate --no-compile --empty-catalog --profiles-dir . --target embedded && \
    test -s target/manifest.json
