// Package mqtt provides Confluent's MQTT connectors with their class names
// and keys, built on Eclipse Paho (github.com/eclipse/paho.mqtt.golang),
// which only this package imports:
//
//   - io.confluent.connect.mqtt.MqttSourceConnector (also
//     io.sluice.connect.mqtt.MqttSourceConnector) subscribes to
//     mqtt.topics and writes each message to kafka.topic: key the MQTT
//     topic (STRING), value the payload (BYTES), headers mqtt.message.id,
//     mqtt.qos, mqtt.retained and mqtt.duplicate;
//   - io.confluent.connect.mqtt.MqttSinkConnector (also
//     io.sluice.connect.mqtt.MqttSinkConnector) publishes each record's
//     value (bytes or string) to mqtt.topic, or to the topic named like the
//     record's Kafka topic.
//
// Both reach brokers through mqtt.server.uri over TCP (tcp://), TLS
// (ssl://), MQTT over WebSockets (ws://host:port/path) or over TLS
// WebSockets (wss://), trusting mqtt.ssl.ca.file (PEM) and, for brokers
// that require a client certificate, presenting mqtt.ssl.cert.file and
// mqtt.ssl.key.file (PEM). Certificate problems (none where one is
// required, an untrusted broker, unreadable files) fail the lease as not
// retriable.
//
// # Leases and persistent sessions
//
// A source lease connects with its task's client id and, by default
// (mqtt.clean.session.enabled=false), resumes the task's persistent
// session: the broker sends what it queued while no lease ran, then what
// arrives during the lease. The lease produces the messages to Kafka and
// acknowledges them to the broker (PUBACK for QoS 1, PUBREC for QoS 2)
// only after Kafka acknowledged the records and the lease's offsets were
// written; then it disconnects. A lease that dies before that point leaves
// the messages unacknowledged, and the broker sends them again to the next
// lease: at least once, without a process running while devices are quiet.
// QoS 0 messages are never acknowledged and may be lost with a lease.
//
// Brokers bound what they hold for a client, and these bounds matter when
// a session is only read in leases:
//
//   - the in-flight window (Mosquitto's max_inflight_messages, default 20;
//     MQTT 5's receive maximum) caps how many QoS 1/2 messages one lease
//     receives before acknowledging, so a lease reads at most that many
//     (the next lease reads the next ones). Set it high (0, no limit, for
//     Mosquitto) for throughput; MQTT's 16-bit message ids cap it at 65535.
//   - the queue of an absent session (Mosquitto's max_queued_messages,
//     default 1000) is where messages wait between leases; a broker drops
//     what exceeds it. Size it for the longest gap between leases.
//
// Changing mqtt.topics or tasks.max changes which client id, and so which
// session, a filter is read through; messages queued in the old session
// are not read.
//
// Mosquitto 2.0 sends a deep backlog slowly to a session that reconnects
// (measured: about 1,000 messages/s with 400,000 queued, against 20,000 and
// more to a subscriber that stays connected), so a source whose leases each
// reconnect should be leased often enough to keep the backlog small. In a
// long-lived worker, mqtt.connection.keep.alive.between.leases keeps the
// connection (and the broker's flow) open between leases instead.
package mqtt
