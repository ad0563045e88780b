package elasticsearch

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Configuration keys, as Confluent's ElasticsearchSinkConnector names them,
// plus elastic.https.ssl.ca.file (Sluice's: a PEM file where Confluent
// takes a Java trust store).
const (
	ConnectionURLConfig         = "connection.url"
	ConnectionUsernameConfig    = "connection.username"
	ConnectionPasswordConfig    = "connection.password"
	BatchSizeConfig             = "batch.size"
	BulkSizeBytesConfig         = "bulk.size.bytes"
	MaxRetriesConfig            = "max.retries"
	RetryBackoffMsConfig        = "retry.backoff.ms"
	ConnectionTimeoutConfig     = "connection.timeout.ms"
	ReadTimeoutConfig           = "read.timeout.ms"
	KeyIgnoreConfig             = "key.ignore"
	SchemaIgnoreConfig          = "schema.ignore"
	CompactMapEntriesConfig     = "compact.map.entries"
	TopicKeyIgnoreConfig        = "topic.key.ignore"
	TopicSchemaIgnoreConfig     = "topic.schema.ignore"
	DropInvalidMessageConfig    = "drop.invalid.message"
	BehaviorOnNullConfig        = "behavior.on.null.values"
	BehaviorOnMalformedConfig   = "behavior.on.malformed.documents"
	WriteMethodConfig           = "write.method"
	SecurityProtocolConfig      = "elastic.security.protocol"
	SSLCAFileConfig             = "elastic.https.ssl.ca.file"
	DataStreamTypeConfig        = "data.stream.type"
	DataStreamDatasetConfig     = "data.stream.dataset"
	DataStreamNamespaceConfig   = "data.stream.namespace"
	DataStreamTimestampConfig   = "data.stream.timestamp.field"
	ExternalVersionHeaderConfig = "external.version.header"
	MaxInFlightRequestsConfig   = "max.in.flight.requests"
)

// The values of the enumerated keys, upper case as Confluent documents
// them; they are matched case-insensitively.
const (
	NullIgnore = "IGNORE"
	NullDelete = "DELETE"
	NullFail   = "FAIL"

	MalformedIgnore = "IGNORE"
	MalformedWarn   = "WARN"
	MalformedFail   = "FAIL"

	WriteInsert = "INSERT"
	WriteUpsert = "UPSERT"

	ProtocolPlaintext = "PLAINTEXT"
	ProtocolSSL       = "SSL"

	DataStreamNone    = "NONE"
	DataStreamLogs    = "LOGS"
	DataStreamMetrics = "METRICS"
)

// Config declares the connector's keys with Confluent's defaults.
func Config() *config.Def {
	const (
		conn = "Connector"
		data = "Data Conversion"
		ds   = "Data Stream"
		sec  = "Security"
	)
	return config.NewDef().
		Define(config.Key{Name: ConnectionURLConfig, Type: config.List, Default: config.NoDefault, Importance: config.High,
			Validator: config.LambdaValidator(validURLs, "list of http:// or https:// URLs"),
			Group:     conn, OrderInGroup: 1, Width: config.WidthLong, DisplayName: "Connection URLs",
			Doc: "The comma-separated list of one or more Elasticsearch or OpenSearch URLs, such as http://eshost1:9200,http://eshost2:9200. " +
				"Requests go to the first; a node that cannot be reached is skipped for the next."}).
		Define(config.Key{Name: ConnectionUsernameConfig, Type: config.String, Default: nil, Importance: config.Medium,
			Group: conn, OrderInGroup: 2, Width: config.WidthShort, DisplayName: "Connection Username",
			Doc: "The username used to authenticate with Elasticsearch (HTTP Basic). The default is the null value, which means no authentication."}).
		Define(config.Key{Name: ConnectionPasswordConfig, Type: config.Password, Default: nil, Importance: config.Medium,
			Group: conn, OrderInGroup: 3, Width: config.WidthShort, DisplayName: "Connection Password",
			Doc: "The password used to authenticate with Elasticsearch. The default is the null value, which means no authentication."}).
		Define(config.Key{Name: BatchSizeConfig, Type: config.Int, Default: 2000, Importance: config.Medium,
			Validator: config.Between(1, 1000000), Group: conn, OrderInGroup: 4, Width: config.WidthShort, DisplayName: "Batch Size",
			Doc: "The number of records to process as a batch when writing to Elasticsearch (documents per bulk request)."}).
		Define(config.Key{Name: BulkSizeBytesConfig, Type: config.Long, Default: int64(5 << 20), Importance: config.Low,
			Validator: config.AtLeast(1), Group: conn, OrderInGroup: 5, Width: config.WidthShort, DisplayName: "Bulk Size (bytes)",
			Doc: "The maximum size (in bytes) of one bulk request; a batch is split before it grows larger."}).
		Define(config.Key{Name: MaxRetriesConfig, Type: config.Int, Default: 5, Importance: config.Low,
			Validator: config.AtLeast(0), Group: conn, OrderInGroup: 6, Width: config.WidthShort, DisplayName: "Max Retries",
			Doc: "The maximum number of retries that are allowed for failed indexing requests (HTTP 429 and 5xx, per request and per document, and unreachable nodes). " +
				"When they are used up the lease fails as retriable and the coordinator re-issues the same offset range."}).
		Define(config.Key{Name: RetryBackoffMsConfig, Type: config.Long, Default: int64(100), Importance: config.Low,
			Validator: config.AtLeast(0), Group: conn, OrderInGroup: 7, Width: config.WidthShort, DisplayName: "Retry Backoff (ms)",
			Doc: "How long to wait in milliseconds before attempting the first retry of a failed indexing request. " +
				"Each later retry waits twice as long, with jitter, up to 1 minute."}).
		Define(config.Key{Name: ConnectionTimeoutConfig, Type: config.Int, Default: 1000, Importance: config.Low,
			Validator: config.AtLeast(0), Group: conn, OrderInGroup: 8, Width: config.WidthShort, DisplayName: "Connection Timeout",
			Doc: "How long to wait in milliseconds when establishing a connection to the Elasticsearch server."}).
		Define(config.Key{Name: ReadTimeoutConfig, Type: config.Int, Default: 3000, Importance: config.Low,
			Validator: config.AtLeast(0), Group: conn, OrderInGroup: 9, Width: config.WidthShort, DisplayName: "Read Timeout",
			Doc: "How long to wait in milliseconds for the Elasticsearch server to send a response. A request that times out is retried."}).
		Define(config.Key{Name: MaxInFlightRequestsConfig, Type: config.Int, Default: 5, Importance: config.Medium,
			Validator: config.Between(1, 1000), Group: conn, OrderInGroup: 10, Width: config.WidthShort, DisplayName: "Max In-flight Requests",
			Doc: "The maximum number of bulk requests sent to Elasticsearch and not yet answered; the next batch is prepared while they are in flight. " +
				"With write.method=UPSERT one request is in flight at a time, so that updates of a document apply in offset order."}).
		Define(config.Key{Name: KeyIgnoreConfig, Type: config.Boolean, Default: false, Importance: config.High,
			Group: data, OrderInGroup: 1, Width: config.WidthShort, DisplayName: "Ignore Key mode",
			Doc: "Whether to ignore the record key for the purpose of forming the Elasticsearch document ID. " +
				"When true, document IDs are topic+partition+offset; otherwise the record key (a string or integer) is the ID, " +
				"and the record's offset is the document's external version, so that a replayed (older) record never overwrites a newer document."}).
		Define(config.Key{Name: SchemaIgnoreConfig, Type: config.Boolean, Default: false, Importance: config.Low,
			Group: data, OrderInGroup: 2, Width: config.WidthShort, DisplayName: "Ignore Schema mode",
			Doc: "Whether to ignore schemas during indexing. When false, the sink creates each index it writes to, if missing, with a mapping made from the record's value schema. " +
				"When true, or for schemaless records, the index is created by the server's dynamic mapping; string and bytes values are then sent as they are and must be JSON objects."}).
		Define(config.Key{Name: CompactMapEntriesConfig, Type: config.Boolean, Default: true, Importance: config.Low,
			Validator: config.LambdaValidator(onlyTrue, "true"), Group: data, OrderInGroup: 3, Width: config.WidthShort, DisplayName: "Compact Map Entries",
			Doc: "Defines how map entries with string keys within record values are written: as JSON objects (true). " +
				"Sluice does not implement the array of key/value entries form (false)."}).
		Define(config.Key{Name: TopicKeyIgnoreConfig, Type: config.List, Default: "", Importance: config.Low,
			Group: data, OrderInGroup: 4, Width: config.WidthLong, DisplayName: "Topics for 'Ignore Key' mode",
			Doc: "List of topics for which key.ignore should be true."}).
		Define(config.Key{Name: TopicSchemaIgnoreConfig, Type: config.List, Default: "", Importance: config.Low,
			Group: data, OrderInGroup: 5, Width: config.WidthLong, DisplayName: "Topics for 'Ignore Schema' mode",
			Doc: "List of topics for which schema.ignore should be true."}).
		Define(config.Key{Name: DropInvalidMessageConfig, Type: config.Boolean, Default: false, Importance: config.Low,
			Group: data, OrderInGroup: 6, Width: config.WidthLong, DisplayName: "Drop invalid messages",
			Doc: "Whether to drop a record that cannot be turned into a document (no usable key for the ID, a value that is not a JSON object) instead of reporting it as an errant record."}).
		Define(config.Key{Name: BehaviorOnNullConfig, Type: config.String, Default: NullFail, Importance: config.Low,
			Validator: config.CaseInsensitiveValidString(NullIgnore, NullDelete, NullFail), Group: data, OrderInGroup: 7, Width: config.WidthShort,
			DisplayName: "Behavior for null-valued records",
			Doc: "How to handle records with a non-null key and a null value (tombstones): IGNORE skips them, DELETE deletes the document with the key's ID " +
				"(versioned by offset, so a replayed delete never removes a newer document), FAIL reports them as errant records."}).
		Define(config.Key{Name: BehaviorOnMalformedConfig, Type: config.String, Default: MalformedFail, Importance: config.Low,
			Validator: config.CaseInsensitiveValidString(MalformedIgnore, MalformedWarn, MalformedFail), Group: data, OrderInGroup: 8, Width: config.WidthShort,
			DisplayName: "Behavior on malformed documents",
			Doc: "How to handle documents the server rejects (a 4xx item in the bulk response, such as a mapping conflict): IGNORE skips them, WARN logs and skips them, " +
				"FAIL reports them as errant records, with the server's error type and reason in the message: the lease fails under errors.tolerance=none, " +
				"and under errors.tolerance=all the record goes to the dead letter queue with the reason in its headers."}).
		Define(config.Key{Name: WriteMethodConfig, Type: config.String, Default: WriteInsert, Importance: config.Low,
			Validator: config.CaseInsensitiveValidString(WriteInsert, WriteUpsert), Group: data, OrderInGroup: 9, Width: config.WidthShort, DisplayName: "Write Method",
			Doc: "Method used for writing data to Elasticsearch: INSERT indexes (replaces) the document; UPSERT merges the record's fields into the existing document (update with doc_as_upsert). " +
				"Updates cannot carry an external version, so UPSERT is not protected against replays of older records."}).
		Define(config.Key{Name: SecurityProtocolConfig, Type: config.String, Default: ProtocolPlaintext, Importance: config.Medium,
			Validator: config.CaseInsensitiveValidString(ProtocolPlaintext, ProtocolSSL), Group: sec, OrderInGroup: 1, Width: config.WidthShort, DisplayName: "Security protocol",
			Doc: "The security protocol to use when connecting to Elasticsearch. SSL requires https:// URLs."}).
		Define(config.Key{Name: SSLCAFileConfig, Type: config.String, Default: "", Importance: config.Medium,
			Group: sec, OrderInGroup: 2, Width: config.WidthLong, DisplayName: "CA file",
			Doc: "PEM file of the certificate authorities that sign the server's certificate; blank uses the system's."}).
		Define(config.Key{Name: DataStreamTypeConfig, Type: config.String, Default: DataStreamNone, Importance: config.Low,
			Validator: config.CaseInsensitiveValidString(DataStreamLogs, DataStreamMetrics, DataStreamNone), Group: ds, OrderInGroup: 1, Width: config.WidthShort,
			DisplayName: "Data Stream Type",
			Doc: "Generic type of the data streams to write to (LOGS or METRICS); NONE writes to indices. With a type, records are appended to the data stream " +
				"<type>-<dataset>-<namespace> with create operations, and the stream is created (with an index template, if the server has none for it) when missing."}).
		Define(config.Key{Name: DataStreamDatasetConfig, Type: config.String, Default: "", Importance: config.Low,
			Group: ds, OrderInGroup: 2, Width: config.WidthMedium, DisplayName: "Data Stream Dataset",
			Doc: "Describes the data ingested and its structure, the dataset part of the data stream's name. Required with data.stream.type; " +
				"${topic} stands for the record's topic."}).
		Define(config.Key{Name: DataStreamNamespaceConfig, Type: config.String, Default: "${topic}", Importance: config.Low,
			Group: ds, OrderInGroup: 3, Width: config.WidthMedium, DisplayName: "Data Stream Namespace",
			Doc: "The namespace part of the data stream's name; ${topic} stands for the record's topic."}).
		Define(config.Key{Name: DataStreamTimestampConfig, Type: config.List, Default: "", Importance: config.Low,
			Group: ds, OrderInGroup: 4, Width: config.WidthLong, DisplayName: "Data Stream Timestamp Field",
			Doc: "The value fields whose first present one is copied into @timestamp for data streams; when empty or absent, the record's timestamp is used. " +
				"A document that has @timestamp keeps it."}).
		Define(config.Key{Name: ExternalVersionHeaderConfig, Type: config.String, Default: "", Importance: config.Low,
			Group: data, OrderInGroup: 10, Width: config.WidthMedium, DisplayName: "External Version Header",
			Doc: "The record header whose value (a long) is the document's external version, instead of the record's offset. Blank uses the offset."}).
		Rule(crossRule)
}

func validURLs(name string, value any) error {
	list, _ := value.([]string)
	if len(list) == 0 {
		return config.InvalidValue(name, "", "at least one URL is required")
	}
	for _, s := range list {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return config.InvalidValue(name, strings.Join(list, ","), fmt.Sprintf("%q is not an http:// or https:// URL", s))
		}
	}
	return nil
}

func onlyTrue(name string, value any) error {
	if b, _ := value.(bool); !b {
		return config.InvalidValue(name, false, "only true (map entries as JSON objects) is supported")
	}
	return nil
}

// settings are the parsed configuration of a task.
type settings struct {
	urls              []string
	username          string
	password          config.Secret
	batchSize         int
	bulkBytes         int64
	maxRetries        int
	backoff           time.Duration
	connectTimeout    time.Duration
	readTimeout       time.Duration
	keyIgnore         bool
	schemaIgnore      bool
	topicKeyIgnore    []string
	topicSchemaIgnore []string
	dropInvalid       bool
	onNull            string
	onMalformed       string
	upsert            bool
	ssl               bool
	caFile            string
	dsType            string
	dsDataset         string
	dsNamespace       string
	dsTimestamp       []string
	versionHeader     string
	maxInFlight       int
}

func parseSettings(props map[string]string) (settings, error) {
	v, err := Config().Parse(props)
	if err != nil {
		return settings{}, err
	}
	s := settings{
		urls:              v.List(ConnectionURLConfig),
		username:          v.String(ConnectionUsernameConfig),
		password:          v.Password(ConnectionPasswordConfig),
		batchSize:         v.Int(BatchSizeConfig),
		bulkBytes:         v.Long(BulkSizeBytesConfig),
		maxRetries:        v.Int(MaxRetriesConfig),
		backoff:           time.Duration(v.Long(RetryBackoffMsConfig)) * time.Millisecond,
		connectTimeout:    time.Duration(v.Int(ConnectionTimeoutConfig)) * time.Millisecond,
		readTimeout:       time.Duration(v.Int(ReadTimeoutConfig)) * time.Millisecond,
		keyIgnore:         v.Bool(KeyIgnoreConfig),
		schemaIgnore:      v.Bool(SchemaIgnoreConfig),
		topicKeyIgnore:    v.List(TopicKeyIgnoreConfig),
		topicSchemaIgnore: v.List(TopicSchemaIgnoreConfig),
		dropInvalid:       v.Bool(DropInvalidMessageConfig),
		onNull:            strings.ToUpper(v.String(BehaviorOnNullConfig)),
		onMalformed:       strings.ToUpper(v.String(BehaviorOnMalformedConfig)),
		upsert:            strings.EqualFold(v.String(WriteMethodConfig), WriteUpsert),
		ssl:               strings.EqualFold(v.String(SecurityProtocolConfig), ProtocolSSL),
		caFile:            v.String(SSLCAFileConfig),
		dsType:            strings.ToLower(v.String(DataStreamTypeConfig)),
		dsDataset:         v.String(DataStreamDatasetConfig),
		dsNamespace:       v.String(DataStreamNamespaceConfig),
		dsTimestamp:       v.List(DataStreamTimestampConfig),
		versionHeader:     v.String(ExternalVersionHeaderConfig),
		maxInFlight:       v.Int(MaxInFlightRequestsConfig),
	}
	if s.upsert {
		s.maxInFlight = 1
	}
	if s.dsType == "none" {
		s.dsType = ""
	}
	return s, nil
}

// crossRule is the Def's rule across keys: crossCheck on the parsed values.
func crossRule(v *config.Values) []config.Problem {
	s := settings{urls: v.List(ConnectionURLConfig), ssl: strings.EqualFold(v.String(SecurityProtocolConfig), ProtocolSSL),
		upsert: strings.EqualFold(v.String(WriteMethodConfig), WriteUpsert), dsDataset: v.String(DataStreamDatasetConfig)}
	if t := strings.ToLower(v.String(DataStreamTypeConfig)); t != "none" {
		s.dsType = t
	}
	var out []config.Problem
	problems := crossCheck(s)
	for _, k := range slices.Sorted(maps.Keys(problems)) {
		for _, msg := range problems[k] {
			out = append(out, config.Problem{Key: k, Message: msg})
		}
	}
	return out
}

// crossCheck finds the problems between keys, by key.
func crossCheck(s settings) map[string][]string {
	p := map[string][]string{}
	if s.dsType != "" && strings.TrimSpace(s.dsDataset) == "" {
		p[DataStreamDatasetConfig] = append(p[DataStreamDatasetConfig], "data.stream.dataset is required when data.stream.type is "+strings.ToUpper(s.dsType))
	}
	if s.dsType != "" && s.upsert {
		p[WriteMethodConfig] = append(p[WriteMethodConfig], "data streams are append-only: write.method must be INSERT with data.stream.type")
	}
	for _, u := range s.urls {
		if s.ssl && strings.HasPrefix(u, "http://") {
			p[ConnectionURLConfig] = append(p[ConnectionURLConfig], fmt.Sprintf("%s is not https:// but elastic.security.protocol is SSL", u))
		}
	}
	return p
}
