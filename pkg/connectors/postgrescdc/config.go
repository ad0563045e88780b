package postgrescdc

import (
	"regexp"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// Configuration keys, Debezium's PostgresConnectorConfig names.
const (
	HostnameConfig              = "database.hostname"
	PortConfig                  = "database.port"
	UserConfig                  = "database.user"
	PasswordConfig              = "database.password"
	DBNameConfig                = "database.dbname"
	SSLModeConfig               = "database.sslmode"
	TopicPrefixConfig           = "topic.prefix"
	PluginNameConfig            = "plugin.name"
	SlotNameConfig              = "slot.name"
	SlotDropOnStopConfig        = "slot.drop.on.stop"
	PublicationNameConfig       = "publication.name"
	PublicationAutocreateConfig = "publication.autocreate.mode"
	SchemaIncludeConfig         = "schema.include.list"
	SchemaExcludeConfig         = "schema.exclude.list"
	TableIncludeConfig          = "table.include.list"
	TableExcludeConfig          = "table.exclude.list"
	ColumnIncludeConfig         = "column.include.list"
	ColumnExcludeConfig         = "column.exclude.list"
	SnapshotModeConfig          = "snapshot.mode"
	HeartbeatIntervalConfig     = "heartbeat.interval.ms"
	HeartbeatTopicPrefixConfig  = "topic.heartbeat.prefix"
	TombstonesOnDeleteConfig    = "tombstones.on.delete"
	DecimalHandlingConfig       = "decimal.handling.mode"
	TimePrecisionConfig         = "time.precision.mode"
	TransactionMetadataConfig   = "provide.transaction.metadata"
	SkippedOperationsConfig     = "skipped.operations"
	MaxBatchSizeConfig          = "max.batch.size"
	StatusUpdateIntervalConfig  = "status.update.interval.ms"
)

// Values of snapshot.mode.
const (
	SnapshotInitial     = "initial"
	SnapshotNever       = "never"
	SnapshotInitialOnly = "initial_only"
	SnapshotNoData      = "no_data"
	SnapshotWhenNeeded  = "when_needed"
)

// Values of publication.autocreate.mode.
const (
	PublicationAllTables = "all_tables"
	PublicationFiltered  = "filtered"
	PublicationDisabled  = "disabled"
)

// Values of decimal.handling.mode and time.precision.mode.
const (
	DecimalPrecise = "precise"
	DecimalDouble  = "double"
	DecimalString  = "string"

	TimeAdaptive                 = "adaptive"
	TimeAdaptiveTimeMicroseconds = "adaptive_time_microseconds"
	TimeConnect                  = "connect"
)

const (
	connGroup     = "Connection"
	captureGroup  = "Capture"
	formatGroup   = "Events"
	advancedGroup = "Advanced"
)

// Config declares the connector's keys, with Debezium's names and defaults.
func Config() *config.Def {
	key := func(name string, t config.Type, def any, imp config.Importance, group string, order int, doc string, v config.Validator) config.Key {
		return config.Key{Name: name, Type: t, Default: def, Importance: imp, Group: group, OrderInGroup: order,
			Width: config.WidthMedium, Doc: doc, Validator: v}
	}
	return config.NewDef().
		Define(key(HostnameConfig, config.String, config.NoDefault, config.High, connGroup, 1,
			"Resolvable hostname or IP address of the database server.", config.NonEmptyString())).
		Define(key(PortConfig, config.Int, 5432, config.High, connGroup, 2, "Port of the database server.", config.Between(1, 65535))).
		Define(key(UserConfig, config.String, config.NoDefault, config.High, connGroup, 3,
			"Name of the database user; it needs the REPLICATION attribute (and CREATE on the database for publication.autocreate.mode).", config.NonEmptyString())).
		Define(key(PasswordConfig, config.Password, nil, config.High, connGroup, 4, "Password of the database user.", nil)).
		Define(key(DBNameConfig, config.String, config.NoDefault, config.High, connGroup, 5, "The database to capture.", config.NonEmptyString())).
		Define(key(SSLModeConfig, config.String, "prefer", config.Medium, connGroup, 6,
			"Whether to use TLS: disable, allow, prefer, require, verify-ca or verify-full (libpq's sslmode).",
			config.ValidString("disable", "allow", "prefer", "require", "verify-ca", "verify-full"))).
		Define(key(TopicPrefixConfig, config.String, config.NoDefault, config.High, connGroup, 7,
			"Topic prefix naming this server: change events go to <topic.prefix>.<schema>.<table>, and it is the source partition's server.", config.NonEmptyString())).
		Define(key(PluginNameConfig, config.String, "pgoutput", config.Medium, captureGroup, 1,
			"The logical decoding plugin. Only pgoutput, built into PostgreSQL 10 and later, is supported.", config.ValidString("pgoutput"))).
		Define(key(SlotNameConfig, config.String, "debezium", config.Medium, captureGroup, 2,
			"Name of the logical replication slot. It is created when missing; its confirmed flush LSN moves only after the records before it are in Kafka and their offsets committed.", config.NonEmptyString())).
		Define(key(SlotDropOnStopConfig, config.Boolean, false, config.Low, captureGroup, 3,
			"Drop the slot when the connector is stopped (deleted, paused or reconfigured), not at the end of each lease. For tests only: the WAL the slot held is released.", nil)).
		Define(key(PublicationNameConfig, config.String, "dbz_publication", config.Medium, captureGroup, 4,
			"Name of the publication pgoutput streams.", config.NonEmptyString())).
		Define(key(PublicationAutocreateConfig, config.String, PublicationAllTables, config.Medium, captureGroup, 5,
			"all_tables: create the publication FOR ALL TABLES when missing; filtered: create it for the included tables (and keep its table list current at each lease start); disabled: the publication must exist.",
			config.ValidString(PublicationAllTables, PublicationFiltered, PublicationDisabled))).
		Define(key(SchemaIncludeConfig, config.List, "", config.Medium, captureGroup, 6,
			"Regular expressions matching the schemas to capture (whole names).", nil)).
		Define(key(SchemaExcludeConfig, config.List, "", config.Medium, captureGroup, 7,
			"Regular expressions matching schemas not to capture.", nil)).
		Define(key(TableIncludeConfig, config.List, "", config.Medium, captureGroup, 8,
			"Regular expressions matching <schema>.<table> of the tables to capture; empty captures every table not excluded.", nil)).
		Define(key(TableExcludeConfig, config.List, "", config.Medium, captureGroup, 9,
			"Regular expressions matching <schema>.<table> of tables not to capture.", nil)).
		Define(key(ColumnIncludeConfig, config.List, "", config.Medium, captureGroup, 10,
			"Regular expressions matching <schema>.<table>.<column> of the columns to include in change events.", nil)).
		Define(key(ColumnExcludeConfig, config.List, "", config.Medium, captureGroup, 11,
			"Regular expressions matching <schema>.<table>.<column> of columns to leave out of change events.", nil)).
		Define(key(SnapshotModeConfig, config.String, SnapshotInitial, config.Medium, captureGroup, 12,
			"initial: snapshot the tables when there is no committed offset, then stream; initial_only: snapshot then stop; no_data (and its old name never): stream only; when_needed: snapshot when there is no offset or the offset's WAL is gone (the slot was dropped).",
			config.ValidString(SnapshotInitial, SnapshotInitialOnly, SnapshotNoData, SnapshotNever, SnapshotWhenNeeded))).
		Define(key(HeartbeatIntervalConfig, config.Int, 0, config.Medium, captureGroup, 13,
			"Milliseconds between heartbeat records (to __debezium-heartbeat.<topic.prefix>); 0 disables them. Heartbeats let the slot's confirmed LSN advance while the captured tables are quiet, so that other tables' WAL is released.", config.AtLeast(0))).
		Define(key(HeartbeatTopicPrefixConfig, config.String, debezium.DefaultHeartbeatTopicPrefix, config.Low, captureGroup, 14,
			"Prefix of the heartbeat topic.", config.NonEmptyString())).
		Define(key(StatusUpdateIntervalConfig, config.Int, 1000, config.Low, captureGroup, 15,
			"Milliseconds between standby status messages to the server while streaming. They confirm only the position of the committed offset, "+
				"which lets the server move the slot's restart LSN as it decodes. Debezium's default is 10000; Sluice's leases are short, so 1000.", config.AtLeast(100))).
		Define(key(TombstonesOnDeleteConfig, config.Boolean, true, config.Medium, formatGroup, 1,
			"Follow each delete event with a tombstone (null value) for log compaction.", nil)).
		Define(key(DecimalHandlingConfig, config.String, DecimalPrecise, config.Medium, formatGroup, 2,
			"How NUMERIC columns are represented: precise (Connect Decimal; io.debezium.data.VariableScaleDecimal without a declared scale), double, or string.",
			config.ValidString(DecimalPrecise, DecimalDouble, DecimalString))).
		Define(key(TimePrecisionConfig, config.String, TimeAdaptive, config.Medium, formatGroup, 3,
			"How temporal columns are represented: adaptive (io.debezium.time types following the column's precision), adaptive_time_microseconds (TIME always io.debezium.time.MicroTime), or connect (Connect's Date, Time, Timestamp; milliseconds).",
			config.ValidString(TimeAdaptive, TimeAdaptiveTimeMicroseconds, TimeConnect))).
		Define(key(TransactionMetadataConfig, config.Boolean, false, config.Medium, formatGroup, 4,
			"Fill the envelope's transaction block and write BEGIN and END records to <topic.prefix>.transaction.", nil)).
		Define(key(SkippedOperationsConfig, config.List, "t", config.Low, formatGroup, 5,
			"Operations not to emit: c, u, d, t (truncate); none emits them all.", nil)).
		Define(key(MaxBatchSizeConfig, config.Int, 2048, config.Low, advancedGroup, 1,
			"Maximum records returned by one poll (and rows fetched at once during a snapshot).", config.AtLeast(1)))
}

// settings is a parsed configuration.
type settings struct {
	host, user, dbname, sslmode string
	port                        int
	password                    string
	prefix                      string
	slot, publication           string
	pubMode                     string
	dropSlotOnStop              bool
	filter                      filter
	snapshotMode                string
	heartbeat                   time.Duration
	heartbeatTopic              string
	statusInterval              time.Duration
	tombstones                  bool
	decimalMode, timeMode       string
	txMetadata                  bool
	skipped                     map[string]bool
	batch                       int
}

func parseSettings(props map[string]string) (*settings, error) {
	vals, err := Config().Parse(props)
	if err != nil {
		return nil, err
	}
	s := &settings{
		host: vals.String(HostnameConfig), port: vals.Int(PortConfig), user: vals.String(UserConfig),
		password: vals.Password(PasswordConfig).Value(), dbname: vals.String(DBNameConfig), sslmode: vals.String(SSLModeConfig),
		prefix: vals.String(TopicPrefixConfig), slot: vals.String(SlotNameConfig), publication: vals.String(PublicationNameConfig),
		pubMode: vals.String(PublicationAutocreateConfig), dropSlotOnStop: vals.Bool(SlotDropOnStopConfig),
		snapshotMode: vals.String(SnapshotModeConfig), heartbeat: time.Duration(vals.Int(HeartbeatIntervalConfig)) * time.Millisecond,
		statusInterval: time.Duration(vals.Int(StatusUpdateIntervalConfig)) * time.Millisecond,
		tombstones:     vals.Bool(TombstonesOnDeleteConfig), decimalMode: vals.String(DecimalHandlingConfig),
		timeMode: vals.String(TimePrecisionConfig), txMetadata: vals.Bool(TransactionMetadataConfig),
		batch: vals.Int(MaxBatchSizeConfig), skipped: map[string]bool{},
	}
	s.heartbeatTopic = vals.String(HeartbeatTopicPrefixConfig) + "." + s.prefix
	if s.snapshotMode == SnapshotNever {
		s.snapshotMode = SnapshotNoData
	}
	for _, op := range vals.List(SkippedOperationsConfig) {
		if op = strings.TrimSpace(op); op != "none" && op != "" {
			s.skipped[op] = true
		}
	}
	var problems []config.Problem
	compile := func(key string) []*regexp.Regexp { return debezium.FilterList(vals, key, &problems) }
	s.filter = filter{
		schemaInclude: compile(SchemaIncludeConfig), schemaExclude: compile(SchemaExcludeConfig),
		tableInclude: compile(TableIncludeConfig), tableExclude: compile(TableExcludeConfig),
		columnInclude: compile(ColumnIncludeConfig), columnExclude: compile(ColumnExcludeConfig),
	}
	for _, pair := range [][2]string{{TableIncludeConfig, TableExcludeConfig}, {ColumnIncludeConfig, ColumnExcludeConfig}, {SchemaIncludeConfig, SchemaExcludeConfig}} {
		if len(vals.List(pair[0])) > 0 && len(vals.List(pair[1])) > 0 {
			problems = append(problems, config.Problem{Key: pair[1], Message: "\"" + pair[0] + "\" is already specified; set only one of " + pair[0] + " and " + pair[1]})
		}
	}
	if len(problems) > 0 {
		return nil, &config.ValidationError{Problems: problems}
	}
	return s, nil
}

// filter decides which tables and columns are captured (Debezium's
// RelationalTableFilters): include lists win over exclude lists, and a
// pattern must match the whole name.
type filter struct {
	schemaInclude, schemaExclude []*regexp.Regexp
	tableInclude, tableExclude   []*regexp.Regexp
	columnInclude, columnExclude []*regexp.Regexp
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// table reports whether schema.table is captured.
func (f filter) table(schema, table string) bool {
	if schema == "pg_catalog" || schema == "information_schema" {
		return false
	}
	if len(f.schemaInclude) > 0 && !anyMatch(f.schemaInclude, schema) || anyMatch(f.schemaExclude, schema) {
		return false
	}
	id := schema + "." + table
	if len(f.tableInclude) > 0 {
		return anyMatch(f.tableInclude, id)
	}
	return !anyMatch(f.tableExclude, id)
}

// column reports whether schema.table.column is in change events.
func (f filter) column(schema, table, column string) bool {
	id := schema + "." + table + "." + column
	if len(f.columnInclude) > 0 {
		return anyMatch(f.columnInclude, id)
	}
	return !anyMatch(f.columnExclude, id)
}
