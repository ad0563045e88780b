#!/usr/bin/env bash
# Records the JsonConverter golden files that are not from Connect's
# JsonConverterTest (float64.json, string.json, optional_null.json,
# default.json, struct.json, decimal_negative_base64.json,
# schemaless_numbers.json) from Apache Kafka Connect's JsonConverter (the
# jars `make kafka` resolves), never from Sluice: see
# connect/RecordJsonGoldens.java. The other files are the JSON of Connect's
# JsonConverterTest cases.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../../../.."
make kafka
libs="${SLUICE_KAFKA_LIBS:-$HOME/.cache/sluice/kafka-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' internal/realkafka/pom.xml)/libs}"
java -cp "$libs/*" "$here/connect/RecordJsonGoldens.java" "$here"
