#!/usr/bin/env bash
# Records the golden change events of Debezium 3.5.0.Final's MariaDB
# connector (testdata/debezium/mariadb.jsonl): fetches Debezium from Maven
# Central, then runs TestRecordDebeziumGolden, which starts a real MariaDB,
# applies the scenario of golden_test.go and captures what Debezium's
# embedded engine emits through Kafka's JsonConverter (the recorder is the
# PostgreSQL package's DebeziumRecorder.java).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${SLUICE_CACHE:-$HOME/.cache/sluice}/debezium-mariadb
mkdir -p "$cache"
if [ ! -f "$cache/lib/debezium-connector-mariadb-3.5.0.Final.jar" ]; then
  mvn -q -B -ntp -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$cache/lib"
fi
cd "$here/../.."
SLUICE_DEBEZIUM_LIB="$cache/lib" go test -tags debeziumgolden -run TestRecordDebeziumGolden -count=1 -v .
