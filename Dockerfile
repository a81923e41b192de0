# ShopStream on Astro Runtime: the image that `astro dev start`, `astro dev pytest` and `astro deploy`
# build. Written from Astronomer's documentation; this repository's CI has no Docker engine, so the
# tested run is the embedded one (`make run`).
#
# Image and tag. Runtime images for Airflow 3 are published as astrocrpublic.azurecr.io/runtime
# (Airflow 2 ones stay at quay.io/astronomer/astro-runtime) and tagged <major>.<minor>-<patch>:
# "3.3" is the Airflow minor release, the number after the hyphen is Astronomer's own build. The
# project's Airflow is the apache-airflow pin of requirements/airflow-local.txt (3.3.2), the one place
# it is stated; tests/unit/test_versions.py fails if this tag carries another one. 3.3-8 is the first
# 3.3 build with Airflow 3.3.2 (released 2026-09-23; 3.3-1 and 3.3-2 carry 3.3.0, 3.3-7 carries 3.3.1)
# according to Astronomer's runtime catalog (https://updates.astronomer.io/astronomer-runtime, as cut
# on 2026-09-25 into the Astro CLI's pkg/runtimeversions/testdata/catalog.json). Not checked against
# an image here (no Docker engine): `astro dev run version` should print 3.3.2+astro.1.
# Runtime 3.3 defaults to Python 3.14; the -python-3.12 distribution is the Python the locks, the local
# venvs (`make install`) and the rehearsal (tools/rehearse_astro_image.py) use: every test runs on it.
# A Runtime image pins its own Airflow, so requirements.txt must not name it.
#
# The standard image copies the project in ONBUILD steps that run right after FROM: packages.txt
# (apt), requirements.txt (pip, into Airflow's environment), then the whole build context, owned by
# astro. So requirements/dbt.txt and include/ are already in /usr/local/airflow below.
FROM astrocrpublic.azurecr.io/runtime:3.3-8-python-3.12

# bash with pipefail: a failing pipe fails the build.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Read by the DAG (include/shopstream/config.py, transform.py). A Deployment's environment variables
# override these; docker-compose.override.yml overrides the target for the local stand-ins.
ENV SHOPSTREAM_DBT_EXECUTABLE=/usr/local/airflow/dbt_venv/bin/dbt \
    SHOPSTREAM_DBT_TARGET=cloud \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    AIRFLOW__COSMOS__ENABLE_DAG_VERSIONING=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False
# Not set here: AIRFLOW__COSMOS__DBT_DOCS_PROJECTS, where the UI reads the dbt docs. In the cloud they
# are the ones the DAG's publish_dbt_docs task uploads to the Deployment's bucket (a Deployment variable:
# .env.example); the local stand-ins serve the ones built below (docker-compose.override.yml).

# Run as the image's Airflow user so that the venv and the manifest belong to it.
USER astro

# The ONBUILD step installed requirements.txt with floating transitive versions: hold them to the lock
# the tests ran with (compiled for this image's Python by `make lock`; `make install` syncs the local
# venvs to the same locks). A constraints file installs nothing by itself; apache-airflow==3.3.2 in it
# is met by the image's own 3.3.2+astro.1 build.
RUN pip install --no-cache-dir -r requirements.txt -c requirements/airflow.lock.txt

# dbt in its own venv, the way Astronomer documents it for Cosmos (ExecutionConfig.dbt_executable_path):
# dbt's pins never move Airflow's. requirements/dbt.txt pins dbt-core 1.12.0 with
# dbt-core-experimental-parser 2.0.0a4 because later cores need a parser that only builds online;
# the lock pins everything beneath them.
RUN python -m venv dbt_venv && \
    dbt_venv/bin/pip install --no-cache-dir -r requirements/dbt.lock.txt

# The manifest Cosmos renders the DAG from (LoadMode.DBT_MANIFEST), built from the code in this image
# with the cloud target the image runs, so it can never be stale. `dbt parse` opens no connection:
# tools/build_dbt_manifest.sh gives the cloud profile placeholder credentials. The rehearsal runs the
# same script. .dockerignore keeps the host's target/ out of the build context.
RUN tools/build_dbt_manifest.sh /usr/local/airflow/dbt_venv/bin/dbt
