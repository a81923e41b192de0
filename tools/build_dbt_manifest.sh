#!/usr/bin/env bash
# Builds the dbt manifest Cosmos renders the DAG from, with the cloud target the Astro image runs (so
# without the emulator's shims, emulator_shims/, which dbt reads on the embedded target only).
# Used by the Dockerfile and by tools/rehearse_astro_image.py, so the rehearsal parses exactly as the
# image build does. Usage: tools/build_dbt_manifest.sh <path to the dbt executable>
set -euo pipefail
dbt=${1:?usage: $0 <dbt executable>}
cd "$(dirname "$0")/../include/dbt/shopstream"
# `dbt parse` renders profiles.yml but opens no connection: the cloud target's required variables get
# placeholders unless the environment sets them. Nothing here is a credential.
export SNOWFLAKE_ACCOUNT=${SNOWFLAKE_ACCOUNT:-build-placeholder}
export SNOWFLAKE_USER=${SNOWFLAKE_USER:-build-placeholder}
export SNOWFLAKE_PRIVATE_KEY_PATH=${SNOWFLAKE_PRIVATE_KEY_PATH:-/dev/null}
export SNOWFLAKE_PRIVATE_KEY_PASSPHRASE=${SNOWFLAKE_PRIVATE_KEY_PASSPHRASE:-build-placeholder}
export DBT_SEND_ANONYMOUS_USAGE_STATS=False
"$dbt" parse --quiet --profiles-dir . --target cloud
# The docs site served in the Airflow UI; the catalog needs a warehouse, so it starts empty.
"$dbt" docs generate --quiet --no-compile --empty-catalog --profiles-dir . --target cloud
test -s target/manifest.json
