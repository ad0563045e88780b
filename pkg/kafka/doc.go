// Package kafka is Sluice's only door to Kafka: every produce, fetch, admin and
// consumer-group call goes through it, and it is the only package that imports
// sarama (github.com/IBM/sarama), so the client library can be upgraded or
// swapped in one place.
//
// It offers what bounded, short-lived lease invocations need rather than a
// streaming consumer:
//
//   - Client: metadata, topic creation and fresh watermarks (ListOffsets);
//   - Producer: an idempotent (acks=all) asynchronous producer with a
//     Java-compatible murmur2 partitioner and a Flush that waits for acks;
//   - Client.FetchRange: exactly the records of one offset range, read with
//     direct Fetch requests to the partition leader, with no background
//     goroutines;
//   - Client.CommittedOffsets and Client.CommitOffsets: consumer-group offsets
//     committed without joining the group, never moved backwards;
//   - Campaign: leader election through Kafka's group protocol.
//
// The stores of Connect's internal topics, offsets included, are in package
// coordinator/state.
//
// Every connection it opens uses Config.Security: TLS (with PEM CA and client
// certificate files) and SASL PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, as the
// Java client's security.protocol, sasl.* and ssl.* properties describe.
package kafka
