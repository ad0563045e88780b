package mqtt

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Configuration keys, as Confluent's MQTT connectors name them, plus
// Sluice's PEM files for TLS (Confluent's connectors take Java key stores).
const (
	ServerURIConfig         = "mqtt.server.uri"
	UsernameConfig          = "mqtt.username"
	PasswordConfig          = "mqtt.password"
	CleanSessionConfig      = "mqtt.clean.session.enabled"
	ConnectTimeoutConfig    = "mqtt.connect.timeout.seconds"
	KeepaliveIntervalConfig = "mqtt.keepalive.interval.seconds"
	QoSConfig               = "mqtt.qos"
	ClientIDConfig          = "mqtt.client.id"
	SSLCAFileConfig         = "mqtt.ssl.ca.file"
	SSLCertFileConfig       = "mqtt.ssl.cert.file"
	SSLKeyFileConfig        = "mqtt.ssl.key.file"

	// Source keys.
	TopicsConfig     = "mqtt.topics"
	KafkaTopicConfig = "kafka.topic"
	BatchSizeConfig  = "mqtt.batch.size"
	// KeepConnectedConfig is Sluice's: keep a long-lived worker's
	// connection between leases.
	KeepConnectedConfig = "mqtt.connection.keep.alive.between.leases"

	// Sink keys.
	TopicConfig    = "mqtt.topic"
	RetainedConfig = "mqtt.retained.enabled"
)

// Defaults.
const (
	DefaultConnectTimeoutSeconds = 30
	DefaultKeepaliveSeconds      = 60
	DefaultBatchSize             = 4096
)

// connectionConfig declares the keys both connectors share: where the
// broker is, how to log in, TLS, session and timeouts.
func connectionConfig(cleanSessionDoc string) *config.Def {
	const group = "Connection"
	return config.NewDef().
		Define(config.Key{Name: ServerURIConfig, Type: config.List, Default: config.NoDefault, Importance: config.High,
			Validator: config.LambdaValidator(validURIs, "non-empty list of tcp://, ssl://, ws:// or wss:// URIs"),
			Group:     group, OrderInGroup: 1, Width: config.WidthLong, DisplayName: "Server URIs",
			Doc: "List of MQTT brokers to connect to, tried in order: tcp://host:1883, ssl://host:8883, ws://host:80/mqtt or wss://host:443/mqtt."}).
		Define(config.Key{Name: UsernameConfig, Type: config.String, Default: "", Importance: config.High,
			Group: group, OrderInGroup: 2, Width: config.WidthMedium, DisplayName: "Username",
			Doc: "Username to connect with, or blank to connect without a username."}).
		Define(config.Key{Name: PasswordConfig, Type: config.Password, Default: "", Importance: config.High,
			Group: group, OrderInGroup: 3, Width: config.WidthMedium, DisplayName: "Password",
			Doc: "Password to connect with, or blank to connect without a password."}).
		Define(config.Key{Name: CleanSessionConfig, Type: config.Boolean, Default: false, Importance: config.Low,
			Group: group, OrderInGroup: 4, Width: config.WidthShort, DisplayName: "Clean session",
			Doc: cleanSessionDoc}).
		Define(config.Key{Name: ConnectTimeoutConfig, Type: config.Int, Default: DefaultConnectTimeoutSeconds, Importance: config.Low,
			Validator: config.AtLeast(1), Group: group, OrderInGroup: 5, Width: config.WidthShort, DisplayName: "Connect timeout",
			Doc: "Sets the connection timeout value, in seconds: how long connecting, subscribing and each publish acknowledgement may take."}).
		Define(config.Key{Name: KeepaliveIntervalConfig, Type: config.Int, Default: DefaultKeepaliveSeconds, Importance: config.Low,
			Validator: config.AtLeast(1), Group: group, OrderInGroup: 6, Width: config.WidthShort, DisplayName: "Keepalive interval",
			Doc: "Sets the \"keep alive\" interval, in seconds."}).
		Define(config.Key{Name: ClientIDConfig, Type: config.String, Default: "", Importance: config.Medium,
			Group: group, OrderInGroup: 7, Width: config.WidthMedium, DisplayName: "Client id",
			Doc: "Prefix of the MQTT client id. Task n connects as <prefix>-<n>; blank means sluice-<connector name>. " +
				"With mqtt.clean.session.enabled=false the client id names the broker's persistent session, so it must stay the same for the connector's life."}).
		Define(config.Key{Name: SSLCAFileConfig, Type: config.String, Default: "", Importance: config.Medium,
			Group: "TLS", OrderInGroup: 1, Width: config.WidthLong, DisplayName: "CA file",
			Doc: "PEM file of the certificate authorities that sign the broker's certificate (ssl:// and wss://). Blank uses the system's."}).
		Define(config.Key{Name: SSLCertFileConfig, Type: config.String, Default: "", Importance: config.Medium,
			Group: "TLS", OrderInGroup: 2, Width: config.WidthLong, DisplayName: "Client certificate file",
			Doc: "PEM file of the client certificate, for brokers that require mutual TLS; needs mqtt.ssl.key.file."}).
		Define(config.Key{Name: SSLKeyFileConfig, Type: config.String, Default: "", Importance: config.Medium,
			Group: "TLS", OrderInGroup: 3, Width: config.WidthLong, DisplayName: "Client key file",
			Doc: "PEM file of the client certificate's private key."})
}

func qosKey(doc string) config.Key {
	return config.Key{Name: QoSConfig, Type: config.Int, Default: 0, Importance: config.Medium,
		Validator: config.Between(0, 2), Group: "MQTT", OrderInGroup: 1, Width: config.WidthShort, DisplayName: "QoS",
		Doc: doc}
}

// SourceConfig declares the source connector's keys.
func SourceConfig() *config.Def {
	return connectionConfig("Whether the broker forgets the session when the client disconnects. " +
		"Default false (Confluent's default is true): a lease's client resumes its task's persistent session, " +
		"so messages published while no lease runs are kept by the broker for the next one. " +
		"With true, messages published between leases are lost.").
		Define(config.Key{Name: TopicsConfig, Type: config.List, Default: config.NoDefault, Importance: config.High,
			Validator: config.LambdaValidator(nonEmptyList, "non-empty list of topic filters"),
			Group:     "MQTT", OrderInGroup: 0, Width: config.WidthLong, DisplayName: "MQTT topics",
			Doc: "The MQTT topic filters to subscribe to, wildcards (+ and #) allowed. They are divided among the tasks."}).
		Define(qosKey("The QoS of the subscriptions: 0 (at most once: a message may be lost if a lease dies), " +
			"1 or 2 (at least once: the broker keeps a message until the lease acknowledges it, which it does only after Kafka acknowledged the record)")).
		Define(config.Key{Name: KafkaTopicConfig, Type: config.String, Default: config.NoDefault, Importance: config.High,
			Validator: config.NonEmptyString(), Group: "Kafka", OrderInGroup: 1, Width: config.WidthMedium, DisplayName: "Kafka topic",
			Doc: "The Kafka topic to write the messages to. Use the RegexRouter transformation to route by MQTT topic."}).
		Define(config.Key{Name: BatchSizeConfig, Type: config.Int, Default: DefaultBatchSize, Importance: config.Low,
			Validator: config.AtLeast(1), Group: "MQTT", OrderInGroup: 2, Width: config.WidthShort, DisplayName: "Batch size",
			Doc: "The most messages one poll hands to the lease."}).
		Define(config.Key{Name: KeepConnectedConfig, Type: config.Boolean, Default: false, Importance: config.Low,
			Group: "MQTT", OrderInGroup: 3, Width: config.WidthShort, DisplayName: "Stay connected between leases",
			Doc: "Whether a long-lived worker (a container) keeps the task's connection open between leases, so that messages flow in while no lease runs " +
				"and the next lease in the same process starts without reconnecting. Messages received but not yet written to Kafka are acknowledged only by a later lease, " +
				"and come again from the broker if the process ends. Leave false under AWS Lambda, where a frozen process cannot keep a connection alive."})
}

// SinkConfig declares the sink connector's keys.
func SinkConfig() *config.Def {
	return connectionConfig("Whether the broker forgets the session when the client disconnects. Default false.").
		Define(qosKey("The QoS to publish with: 0, 1 or 2. With 1 or 2 a lease commits its offsets only after the broker acknowledged every message.")).
		Define(config.Key{Name: TopicConfig, Type: config.String, Default: "", Importance: config.High,
			Group: "MQTT", OrderInGroup: 2, Width: config.WidthMedium, DisplayName: "MQTT topic",
			Doc: "The MQTT topic to publish to; blank publishes each record to the topic named like its Kafka topic (after transformations)."}).
		Define(config.Key{Name: RetainedConfig, Type: config.Boolean, Default: false, Importance: config.Low,
			Group: "MQTT", OrderInGroup: 3, Width: config.WidthShort, DisplayName: "Retained",
			Doc: "Whether the broker retains the last message of each topic for new subscribers. A null value publishes an empty retained message, which clears the topic's retained message."})
}

func validURIs(name string, value any) error {
	list, _ := value.([]string)
	if len(list) == 0 {
		return config.InvalidValue(name, "", "at least one URI is required")
	}
	for _, s := range list {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return config.InvalidValue(name, strings.Join(list, ","), fmt.Sprintf("%q is not a URI like tcp://host:1883", s))
		}
		switch u.Scheme {
		case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
		default:
			return config.InvalidValue(name, strings.Join(list, ","), fmt.Sprintf("%q: scheme %q is not one of tcp, ssl, ws, wss", s, u.Scheme))
		}
	}
	return nil
}

func nonEmptyList(name string, value any) error {
	list, _ := value.([]string)
	if len(list) == 0 {
		return config.InvalidValue(name, "", "at least one entry is required")
	}
	return nil
}
