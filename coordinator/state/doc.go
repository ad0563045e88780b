// Package state keeps the coordinator's durable state in Kafka, in Kafka
// Connect's own topics and record formats, so that a restarted coordinator
// rebuilds everything from Kafka and so that Sluice and Kafka Connect tooling
// can read each other's topics:
//
//   - Log is Connect's KafkaBasedLog: one compacted topic, read to the end on
//     demand or followed periodically, written with an idempotent, acks=all
//     producer.
//   - ConfigStore is Connect's KafkaConfigBackingStore on the configs topic
//     (config.storage.topic): connector configs, task configs published
//     atomically behind a commit record, target states, and the config
//     generation (Connect's config offset).
//   - StatusStore is Connect's KafkaStatusBackingStore on the status topic
//     (status.storage.topic): connector and task states.
//   - Store opens both (Open), creating missing topics with Connect's
//     settings, and reads both to the end before returning.
//   - OffsetStore is Connect's KafkaOffsetBackingStore on the offsets topic
//     (offset.storage.topic): source offsets, the offsets.Store of the lease
//     executor. The function binaries open it too, without the rest.
//
// Record formats, byte for byte as Connect's JsonConverter (schemas.enable
// false) writes them:
//
//	configs topic (1 partition)
//	  connector-<c>       {"properties":{"k":"v",...}}           tombstone: delete
//	  task-<c>-<n>        {"properties":{"k":"v",...}}
//	  commit-<c>          {"tasks":<count>}
//	  target-state-<c>    {"state":"PAUSED","state.v2":"STOPPED"}  tombstone with the connector's
//	status topic (5 partitions by default, keys placed with murmur2)
//	  status-connector-<c>  {"state":"RUNNING","trace":null,"worker_id":"host:8083","generation":3}
//	  status-task-<c>-<n>   same value; a tombstone is Connect's DESTROYED
//
// Properties are written with their keys sorted (Connect writes a Java
// HashMap's order, which no reader depends on).
package state
