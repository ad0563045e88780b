#!/usr/bin/env bash
# Records the golden change events of Debezium 3.6.1.Final's PostgreSQL
# connector (testdata/debezium/postgres.jsonl): fetches Debezium from Maven
# Central, then runs TestRecordDebeziumGolden, which starts a real
# PostgreSQL, applies the scenario of golden_test.go and captures what
# Debezium's embedded engine emits through Kafka's JsonConverter.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${SLUICE_CACHE:-$HOME/.cache/sluice}/debezium
mkdir -p "$cache"
if [ ! -f "$cache/lib/debezium-connector-postgres-3.6.1.Final.jar" ]; then
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$cache/lib"
fi
cd "$here/../.."
SLUICE_DEBEZIUM_LIB="$cache/lib" go test -tags debeziumgolden -run TestRecordDebeziumGolden -count=1 -v .
