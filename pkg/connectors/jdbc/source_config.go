package jdbc

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Source keys (Confluent's JdbcSourceConnectorConfig names).
const (
	CatalogPatternConfig          = "catalog.pattern"
	TableWhitelistConfig          = "table.whitelist"
	TableIncludeListConfig        = "table.include.list"
	TableBlacklistConfig          = "table.blacklist"
	TableExcludeListConfig        = "table.exclude.list"
	SchemaPatternConfig           = "schema.pattern"
	NumericMappingConfig          = "numeric.mapping"
	NumericPrecisionMappingConfig = "numeric.precision.mapping"
	ModeConfig                    = "mode"
	IncrementingColumnConfig      = "incrementing.column.name"
	TimestampColumnConfig         = "timestamp.column.name"
	TimestampInitialConfig        = "timestamp.initial"
	TimestampGranularityConfig    = "timestamp.granularity"
	ValidateNonNullConfig         = "validate.non.null"
	QueryConfig                   = "query"
	QuerySuffixConfig             = "query.suffix"
	PollIntervalConfig            = "poll.interval.ms"
	BatchMaxRowsConfig            = "batch.max.rows"
	TablePollIntervalConfig       = "table.poll.interval.ms"
	TopicPrefixConfig             = "topic.prefix"
	TimestampDelayConfig          = "timestamp.delay.interval.ms"
	TransactionIsolationConfig    = "transaction.isolation.mode"

	// TablesConfig is the key TaskConfigs gives each task: its tables, a
	// JSON list of "schema.table" names.
	TablesConfig = "tables"
)

// Modes.
const (
	ModeBulk                  = "bulk"
	ModeIncrementing          = "incrementing"
	ModeTimestamp             = "timestamp"
	ModeTimestampIncrementing = "timestamp+incrementing"
)

// timestamp.granularity values.
const (
	GranularityConnectLogical = "connect_logical"
	GranularityNanosLong      = "nanos_long"
	GranularityNanosString    = "nanos_string"
	GranularityNanosISO       = "nanos_iso_datetime_string"
)

// TimestampInitialCurrent as timestamp.initial starts at the database's
// current time.
const TimestampInitialCurrent = -1

const (
	sourceGroup = "Mode"
	tableGroup  = "Tables"
)

// SourceConfig declares the source connector's keys.
func SourceConfig() *config.Def {
	d := connectionKeys(config.NewDef())
	return d.
		Define(config.Key{Name: TableWhitelistConfig, Type: config.List, Default: "",
			Importance: config.Medium, Group: tableGroup, OrderInGroup: 1, Width: config.WidthLong,
			Doc: "Tables to copy (name or schema.name); empty for all. Use only one of the include and exclude lists."}).
		Define(config.Key{Name: TableIncludeListConfig, Type: config.List, Default: "",
			Importance: config.Medium, Group: tableGroup, OrderInGroup: 2, Width: config.WidthLong,
			Doc: "Newer name of table.whitelist."}).
		Define(config.Key{Name: TableBlacklistConfig, Type: config.List, Default: "",
			Importance: config.Medium, Group: tableGroup, OrderInGroup: 3, Width: config.WidthLong,
			Doc: "Tables not to copy (name or schema.name)."}).
		Define(config.Key{Name: TableExcludeListConfig, Type: config.List, Default: "",
			Importance: config.Medium, Group: tableGroup, OrderInGroup: 4, Width: config.WidthLong,
			Doc: "Newer name of table.blacklist."}).
		Define(config.Key{Name: CatalogPatternConfig, Type: config.String, Default: nil,
			Importance: config.Medium, Group: tableGroup, OrderInGroup: 5, Width: config.WidthShort,
			Doc: "Catalog pattern (SQL LIKE) to fetch table metadata: MySQL's databases. By default the connection's database."}).
		Define(config.Key{Name: SchemaPatternConfig, Type: config.String, Default: nil,
			Importance: config.Medium, Group: tableGroup, OrderInGroup: 6, Width: config.WidthShort,
			Doc: "Schema pattern (SQL LIKE) to fetch table metadata: PostgreSQL's schemas (every schema but the system ones " +
				"by default); for MySQL, the same as catalog.pattern."}).
		Define(config.Key{Name: TableTypesConfig, Type: config.List, Default: "TABLE", Validator: config.ValidList("TABLE", "VIEW"),
			Importance: config.Low, Group: tableGroup, OrderInGroup: 7, Width: config.WidthShort,
			Doc: "Table types to copy: TABLE, VIEW."}).
		Define(config.Key{Name: TablePollIntervalConfig, Type: config.Long, Default: int64(60000), Validator: config.AtLeast(1),
			Importance: config.Low, Group: tableGroup, OrderInGroup: 8, Width: config.WidthShort,
			Doc: "How often, in milliseconds, to look for new or removed tables; tasks are reconfigured when they change."}).
		Define(config.Key{Name: NumericPrecisionMappingConfig, Type: config.Boolean, Default: false,
			Importance: config.Low, Group: sourceGroup, OrderInGroup: 10, Width: config.WidthShort,
			Doc: "Deprecated: numeric.mapping=precision_only."}).
		Define(config.Key{Name: NumericMappingConfig, Type: config.String, Default: nil,
			Validator: config.LambdaValidator(func(name string, v any) error {
				if v == nil {
					return nil
				}
				return config.ValidString(NumericMappingNone, NumericMappingPrecisionOnly, NumericMappingBestFit, NumericMappingBestFitEagerDouble).Validate(name, v)
			}, "[none, precision_only, best_fit, best_fit_eager_double]"),
			Importance: config.Low, Group: sourceGroup, OrderInGroup: 11, Width: config.WidthShort,
			Doc: "How NUMERIC/DECIMAL columns map: none (Decimal), precision_only (integers for scale 0), best_fit " +
				"(also FLOAT64 for precision up to 15), best_fit_eager_double (FLOAT64 for any scale above 0). A value " +
				"the chosen type cannot hold exactly fails the task."}).
		Define(config.Key{Name: ModeConfig, Type: config.String, Default: "",
			Validator:  config.ValidString("", ModeBulk, ModeIncrementing, ModeTimestamp, ModeTimestampIncrementing),
			Importance: config.High, Group: sourceGroup, OrderInGroup: 1, Width: config.WidthMedium,
			Doc: "bulk (the whole table on each poll), incrementing (a strictly increasing column), timestamp (a " +
				"timestamp column, several COALESCEd), or timestamp+incrementing (both: no row skipped or repeated)."}).
		Define(config.Key{Name: IncrementingColumnConfig, Type: config.String, Default: "",
			Importance: config.Medium, Group: sourceGroup, OrderInGroup: 2, Width: config.WidthMedium,
			Doc: "The strictly increasing integer column."}).
		Define(config.Key{Name: TimestampColumnConfig, Type: config.List, Default: "",
			Importance: config.Medium, Group: sourceGroup, OrderInGroup: 3, Width: config.WidthMedium,
			Doc: "The timestamp column(s); several are COALESCEd in order."}).
		Define(config.Key{Name: TimestampInitialConfig, Type: config.Long, Default: nil,
			Importance: config.Low, Group: sourceGroup, OrderInGroup: 4, Width: config.WidthMedium,
			Doc: "Epoch milliseconds to start timestamp modes from when there is no offset; -1 for the database's current time."}).
		Define(config.Key{Name: TimestampGranularityConfig, Type: config.String, Default: GranularityConnectLogical,
			Validator:  config.ValidString(GranularityConnectLogical, GranularityNanosLong, GranularityNanosString, GranularityNanosISO),
			Importance: config.Low, Group: sourceGroup, OrderInGroup: 5, Width: config.WidthMedium,
			Doc: "How timestamp values are written: connect_logical (Connect Timestamp, milliseconds; a value with " +
				"sub-millisecond digits fails the task rather than being truncated), nanos_long (INT64 nanoseconds), " +
				"nanos_string (them as a STRING), nanos_iso_datetime_string (ISO-8601 with nanoseconds)."}).
		Define(config.Key{Name: ValidateNonNullConfig, Type: config.Boolean, Default: true,
			Importance: config.Low, Group: sourceGroup, OrderInGroup: 6, Width: config.WidthShort,
			Doc: "Fail when the incrementing or timestamp column is nullable."}).
		Define(config.Key{Name: QueryConfig, Type: config.String, Default: "",
			Importance: config.Medium, Group: sourceGroup, OrderInGroup: 7, Width: config.WidthLong,
			Doc: "A query to run instead of copying tables; the mode's conditions are applied around it."}).
		Define(config.Key{Name: QuerySuffixConfig, Type: config.String, Default: "",
			Importance: config.Low, Group: sourceGroup, OrderInGroup: 8, Width: config.WidthMedium,
			Doc: "Appended to the generated query."}).
		Define(config.Key{Name: TransactionIsolationConfig, Type: config.String, Default: "DEFAULT",
			Validator:  config.ValidString("DEFAULT", "READ_UNCOMMITTED", "READ_COMMITTED", "REPEATABLE_READ", "SERIALIZABLE"),
			Importance: config.Low, Group: sourceGroup, OrderInGroup: 9, Width: config.WidthMedium,
			Doc: "Isolation level of the source queries."}).
		Define(config.Key{Name: PollIntervalConfig, Type: config.Int, Default: 5000, Validator: config.AtLeast(1),
			Importance: config.High, Group: "Connector", OrderInGroup: 1, Width: config.WidthShort,
			Doc: "Milliseconds between queries of a table once it has no new rows."}).
		Define(config.Key{Name: BatchMaxRowsConfig, Type: config.Int, Default: 100, Validator: config.AtLeast(1),
			Importance: config.Low, Group: "Connector", OrderInGroup: 2, Width: config.WidthShort,
			Doc: "Maximum rows of one poll (and of one query): it bounds the task's memory."}).
		Define(config.Key{Name: TopicPrefixConfig, Type: config.String, Default: config.NoDefault,
			Importance: config.High, Group: "Connector", OrderInGroup: 3, Width: config.WidthMedium,
			Doc: "Prefix of the topic names: topic.prefix + table name, or the topic itself in query mode."}).
		Define(config.Key{Name: TimestampDelayConfig, Type: config.Long, Default: int64(0), Validator: config.AtLeast(0),
			Importance: config.High, Group: "Connector", OrderInGroup: 4, Width: config.WidthMedium,
			Doc: "Milliseconds a row's timestamp must be behind the database's clock before the row is read, so that " +
				"transactions committed late (clock skew, long transactions) are not skipped."}).
		Define(config.Key{Name: TablesConfig, Type: config.String, Default: "", Internal: true,
			Importance: config.Low, Doc: "The task's tables (set by the connector)."}).
		Rule(sourceProblems)
}

// sourceSettings is a parsed source configuration.
type sourceSettings struct {
	conn           connection
	include        []string
	exclude        []string
	schemaPattern  string
	tableTypes     []string
	tablePoll      time.Duration
	numericMapping string
	mode           string
	incColumn      string
	tsColumns      []string
	tsInitial      *int64
	granularity    string
	validateNull   bool
	query          string
	querySuffix    string
	isolation      sql.IsolationLevel
	pollInterval   time.Duration
	batchMaxRows   int
	topicPrefix    string
	tsDelay        time.Duration
	tables         []string // the task's
}

func parseSource(props map[string]string) (sourceSettings, error) {
	vals, err := SourceConfig().Parse(props)
	if err != nil {
		return sourceSettings{}, err
	}
	conn, err := parseConnection(vals)
	if err != nil {
		return sourceSettings{}, err
	}
	conn.settings.ServerZone = true
	s := sourceSettings{
		conn:           conn,
		include:        append(vals.List(TableWhitelistConfig), vals.List(TableIncludeListConfig)...),
		exclude:        append(vals.List(TableBlacklistConfig), vals.List(TableExcludeListConfig)...),
		schemaPattern:  vals.String(SchemaPatternConfig),
		tableTypes:     vals.List(TableTypesConfig),
		tablePoll:      time.Duration(vals.Long(TablePollIntervalConfig)) * time.Millisecond,
		numericMapping: vals.String(NumericMappingConfig),
		mode:           vals.String(ModeConfig),
		incColumn:      vals.String(IncrementingColumnConfig),
		tsColumns:      vals.List(TimestampColumnConfig),
		granularity:    vals.String(TimestampGranularityConfig),
		validateNull:   vals.Bool(ValidateNonNullConfig),
		query:          strings.TrimSpace(vals.String(QueryConfig)),
		querySuffix:    vals.String(QuerySuffixConfig),
		pollInterval:   time.Duration(vals.Int(PollIntervalConfig)) * time.Millisecond,
		batchMaxRows:   vals.Int(BatchMaxRowsConfig),
		topicPrefix:    vals.String(TopicPrefixConfig),
		tsDelay:        time.Duration(vals.Long(TimestampDelayConfig)) * time.Millisecond,
	}
	if s.schemaPattern == "" {
		s.schemaPattern = vals.String(CatalogPatternConfig)
	}
	if s.numericMapping == "" {
		s.numericMapping = NumericMappingNone
		if vals.Bool(NumericPrecisionMappingConfig) {
			s.numericMapping = NumericMappingPrecisionOnly
		}
	}
	if v := vals.Get(TimestampInitialConfig); v != nil {
		n := v.(int64)
		s.tsInitial = &n
	}
	s.isolation, _ = isolationLevel(vals.String(TransactionIsolationConfig))
	if t := vals.String(TablesConfig); t != "" {
		if err := json.Unmarshal([]byte(t), &s.tables); err != nil {
			return s, fmt.Errorf("jdbc: task key %s: %w", TablesConfig, err)
		}
	}
	return s, nil
}

// sourceProblems checks the rules across keys.
func sourceProblems(vals *config.Values) []config.Problem {
	var ps []config.Problem
	add := func(key, msg string) { ps = append(ps, config.Problem{Key: key, Message: msg}) }
	mode := vals.String(ModeConfig)
	if mode == "" {
		add(ModeConfig, `Missing required configuration "mode" which has no default value.`)
	}
	if (mode == ModeIncrementing || mode == ModeTimestampIncrementing) && vals.String(IncrementingColumnConfig) == "" {
		add(IncrementingColumnConfig, "Mode "+mode+" needs "+IncrementingColumnConfig)
	}
	if (mode == ModeTimestamp || mode == ModeTimestampIncrementing) && len(vals.List(TimestampColumnConfig)) == 0 {
		add(TimestampColumnConfig, "Mode "+mode+" needs "+TimestampColumnConfig)
	}
	incl := len(vals.List(TableWhitelistConfig)) + len(vals.List(TableIncludeListConfig))
	excl := len(vals.List(TableBlacklistConfig)) + len(vals.List(TableExcludeListConfig))
	if incl > 0 && excl > 0 {
		add(TableWhitelistConfig, "Only one of table.whitelist (table.include.list) or table.blacklist (table.exclude.list) can be set")
	}
	if vals.String(QueryConfig) != "" && incl+excl > 0 {
		add(QueryConfig, "Do not specify table filtering parameters with query")
	}
	if _, err := parseURL(vals.String(ConnectionURLConfig)); err != nil {
		add(ConnectionURLConfig, err.Error())
	}
	return ps
}
