// Package elasticsearch provides Confluent's Elasticsearch sink connector
// (io.confluent.connect.elasticsearch.ElasticsearchSinkConnector, also
// io.sluice.connect.elasticsearch.ElasticsearchSinkConnector) for
// Elasticsearch 7 and 8 and OpenSearch 1 and 2, with Confluent's keys,
// over plain HTTP (net/http): the bulk API, index creation with a mapping
// made from the Connect schema, and data streams.
//
// Each record becomes one document of the index named like its topic
// (lower-cased; route with RegexRouter), or of the data stream
// <type>-<dataset>-<namespace>. The sink is idempotent, so a lease that
// is replayed over the same offset range leaves the same documents:
//
//   - with record keys as document IDs, indexing and deleting use external
//     versioning with the record's offset (or external.version.header) as
//     the version: the server refuses a write older than the document it
//     holds, and the sink counts that refusal as done;
//   - with key.ignore=true the ID is topic+partition+offset, so a replay
//     writes the same document again;
//   - data streams get create operations with topic+partition+offset IDs,
//     whose repeats conflict and are counted as done.
//
// write.method=UPSERT merges fields with update operations, which the
// servers do not version: replays of older records may then overwrite
// newer fields.
//
// Errors: a document the server rejects (a 4xx item of the bulk response)
// follows behavior.on.malformed.documents, FAIL reporting it as an errant
// record whose message carries the server's error type and reason (with
// errors.tolerance=all and errors.deadletterqueue.topic.name it lands in the
// dead letter queue with that reason in __connect.errors.exception.message).
// 429 and 5xx answers, per request and per document, and unreachable nodes
// are retried max.retries times with exponential backoff from
// retry.backoff.ms; after that the lease fails as retriable and its range
// is leased again. 401 and 403 fail the lease.
package elasticsearch
