#!/usr/bin/env bash
# Records the OpenSearch answers the unit tests replay (opensearch-*.json):
# starts a real OpenSearch node with the test launcher (make opensearch),
# sends the requests below with curl, and writes each answer as it came.
#
#   make opensearch && pkg/connectors/elasticsearch/testdata/record.sh
set -euo pipefail
cd "$(dirname "$0")"
HOME_DIR=${SLUICE_OPENSEARCH_HOME:-$HOME/.cache/sluice/opensearch-2.19.6}
DATA=$(mktemp -d)
PORT=${PORT:-19211}
java -Xmx512m -cp "$HOME_DIR/launcher.jar:$HOME_DIR/lib/*" io.sluice.opensearchtest.Main "$DATA" "$PORT" $((PORT + 100)) >"$DATA/node.log" 2>&1 &
PID=$!
trap 'kill $PID; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 180); do
  curl -sf "localhost:$PORT/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null && break
  sleep 1
done
U=http://localhost:$PORT
ndjson() { curl -s -XPOST "$U/_bulk" -H 'Content-Type: application/x-ndjson' --data-binary @-; }

# A bulk request that succeeds for every document.
printf '%s\n' \
  '{"index":{"_index":"orders","_id":"o1","version":1,"version_type":"external"}}' '{"n":1}' \
  '{"index":{"_index":"orders","_id":"o2","version":2,"version_type":"external"}}' '{"n":2}' \
  | ndjson >opensearch-bulk-ok.json
# One of each outcome: written, an older version refused (409), a mapping
# conflict (400), a delete, a delete of a missing document, an upsert.
printf '%s\n' \
  '{"index":{"_index":"orders","_id":"o3","version":3,"version_type":"external"}}' '{"n":3}' \
  '{"index":{"_index":"orders","_id":"o1","version":0,"version_type":"external"}}' '{"n":0}' \
  '{"index":{"_index":"orders","_id":"o4","version":4,"version_type":"external"}}' '{"n":"four"}' \
  '{"delete":{"_index":"orders","_id":"o2","version":5,"version_type":"external"}}' \
  '{"delete":{"_index":"orders","_id":"nope","version":6,"version_type":"external"}}' \
  '{"update":{"_index":"orders","_id":"o7"}}' '{"doc":{"n":7},"doc_as_upsert":true}' \
  | ndjson >opensearch-bulk-mixed.json
# Creating an index that exists, and a data stream without a template.
curl -s -XPUT "$U/orders" -H 'Content-Type: application/json' -d '{"mappings":{}}' >opensearch-index-exists.json
curl -s -XPUT "$U/_data_stream/logs-web-access" >opensearch-data-stream-no-template.json
echo recorded: opensearch-*.json
