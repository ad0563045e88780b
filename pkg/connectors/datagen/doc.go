// Package datagen is a deterministic data generator source connector, for
// demos and benchmarks (io.sluice.connect.datagen.DatagenConnector). It also
// answers to Confluent's io.confluent.kafka.connect.datagen.DatagenConnector
// and accepts that connector's keys kafka.topic, iterations, max.interval and
// quickstart as aliases of topic, count, rate and shape.
//
// Record i of task t is a pure function of (seed, t, i, shape): each record
// has its own SplitMix64 generator seeded from them, and event times are
// Epoch + i seconds, never the clock. Offsets are {"seq": <next i>} under the
// source partition {"task": t}, so a lease that is replayed after a crash
// regenerates exactly the records it had produced, and a new lease resumes
// where the last committed one stopped.
//
// Shapes:
//
//   - orders: STRUCT io.sluice.datagen.Order {order_id INT64, customer_id
//     STRING, item STRING, quantity INT32, price FLOAT64, ordered_at
//     Timestamp}, keyed by customer_id; about 200 bytes as schemaless JSON,
//     for the "1,000,000 records of ~200 bytes" benchmark;
//   - users: STRUCT io.sluice.datagen.User {registertime INT64, userid,
//     regionid, gender STRING}, keyed by userid, as Confluent's users
//     quickstart;
//   - pageviews: STRUCT io.sluice.datagen.Pageview {viewtime INT64, userid,
//     pageid STRING}, keyed by userid, as Confluent's pageviews quickstart;
//   - bytes: an opaque BYTES value of value.size bytes and no key.
//
// Record timestamps are the event times. Differences from Confluent's
// connector: there is no Avro schema file (schema.filename, schema.keyfield)
// support, values are not random across runs, records are paced evenly at
// 1000/max.interval per second rather than after random pauses, and
// iterations and max.interval have no defaults (count and rate apply).
package datagen
