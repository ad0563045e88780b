#!/usr/bin/env bash
# Records testdata/connect_rest.json from Apache Kafka Connect (started by
# the test from the jars `make kafka` resolves), never from Sluice: the test
# runs the scenario against Connect, writes its normalised answers, then
# checks Sluice against them.
set -euo pipefail
cd "$(dirname "$0")/../.."
make kafka
SLUICE_TEST_KAFKA=real go test -count=1 -timeout 20m -run 'TestRESTMatchesConnect' ./coordinator/conformance/ -args -update
