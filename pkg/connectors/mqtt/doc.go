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
// acknowledges each to the broker (PUBACK for QoS 1, PUBREC for QoS 2),
// in order, only after Kafka acknowledged its record and every one before
// it. The records carry no source offsets (the session is the position),
// so this happens while the lease polls (connect.StreamingRecordCommitter):
// the broker's in-flight window keeps moving and one lease reads as many
// messages as its budget allows. At the end it confirms the broker read
// the acknowledgements and disconnects. A lease that dies leaves the
// messages it did not acknowledge to the broker, which sends them again to
// the next lease: at least once, without a process running while devices
// are quiet. QoS 0 messages are never acknowledged and may be lost with a
// lease.
//
// Brokers bound what they hold for a client, and these bounds matter when
// a session is only read in leases:
//
//   - the in-flight window (Mosquitto's max_inflight_messages, default 20;
//     MQTT 5's receive maximum) caps how many QoS 1/2 messages are on
//     their way before Kafka acked them and the lease acknowledged them:
//     it must cover the round trip through Kafka for throughput (thousands,
//     not 20); MQTT's 16-bit message ids cap it at 65535.
//   - the queue of an absent session (Mosquitto's max_queued_messages,
//     default 1000) is where messages wait between leases; a broker drops
//     what exceeds it. Size it for the longest gap between leases.
//
// Changing mqtt.topics or tasks.max changes which client id, and so which
// session, a filter is read through; messages queued in the old session
// are not read.
//
// Mosquitto 2.0 does not keep to its window once a client acknowledges in
// order: each PUBACK of the oldest message in flight lets it move up to a
// whole window more from the session's queue into flight (its
// db__message_delete_outgoing counts only the messages before the one
// acknowledged), so after the first acknowledgements it sends the whole
// backlog at once, and sends it all again to the next connection. A lease
// therefore holds at most 16,384 received messages for Poll (paho then
// stops reading and TCP holds the broker back), drops what arrives after
// polling ended (unacknowledged: the broker sends it to the next lease),
// and a task whose leases each reconnect should get leases with large
// budgets rather than many small ones. In a long-lived worker,
// mqtt.connection.keep.alive.between.leases keeps the connection open
// between leases instead.
package mqtt
