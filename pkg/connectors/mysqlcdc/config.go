package mysqlcdc

import (
	"fmt"
	"regexp"

	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// Configuration keys, Debezium's MySqlConnectorConfig names.
const (
	HostnameConfig             = "database.hostname"
	PortConfig                 = "database.port"
	UserConfig                 = "database.user"
	PasswordConfig             = "database.password"
	ServerIDConfig             = "database.server.id"
	TopicPrefixConfig          = "topic.prefix"
	DatabaseIncludeConfig      = "database.include.list"
	DatabaseExcludeConfig      = "database.exclude.list"
	TableIncludeConfig         = "table.include.list"
	TableExcludeConfig         = "table.exclude.list"
	SnapshotModeConfig         = "snapshot.mode"
	TransactionMetadataConfig  = "provide.transaction.metadata"
	IncludeSchemaChangesConfig = "include.schema.changes"
	TombstonesOnDeleteConfig   = "tombstones.on.delete"
	MaxBatchSizeConfig         = "max.batch.size"
	SchemaHistoryTopicConfig   = "schema.history.internal.kafka.topic"
	SchemaHistoryServersConfig = "schema.history.internal.kafka.bootstrap.servers"
)

// Values of snapshot.mode.
const (
	SnapshotInitial     = "initial"
	SnapshotInitialOnly = "initial_only"
	SnapshotNoData      = "no_data"
	SnapshotNever       = "never"
)

// Config declares the connector's keys with Debezium's names and defaults.
func Config() *config.Def {
	key := func(name string, t config.Type, def any, imp config.Importance, order int, doc string, v config.Validator) config.Key {
		return config.Key{Name: name, Type: t, Default: def, Importance: imp, Group: "Connection", OrderInGroup: order,
			Width: config.WidthMedium, Doc: doc, Validator: v}
	}
	return config.NewDef().
		Define(key(HostnameConfig, config.String, config.NoDefault, config.High, 1, "Resolvable hostname or IP address of the database server.", config.NonEmptyString())).
		Define(key(PortConfig, config.Int, 3306, config.High, 2, "Port of the database server.", config.Between(1, 65535))).
		Define(key(UserConfig, config.String, config.NoDefault, config.High, 3, "Name of the database user; it needs SELECT, RELOAD (MySQL), REPLICATION SLAVE and REPLICATION CLIENT.", config.NonEmptyString())).
		Define(key(PasswordConfig, config.Password, nil, config.High, 4, "Password of the database user.", nil)).
		Define(key(ServerIDConfig, config.Long, int64(5400), config.High, 5, "The server id the connector uses as a replica; unique among the server's replicas.", config.Between(1, 4294967295))).
		Define(key(TopicPrefixConfig, config.String, config.NoDefault, config.High, 6, "Topic prefix: change events go to <topic.prefix>.<database>.<table>; also the source partition's server.", config.NonEmptyString())).
		Define(key(DatabaseIncludeConfig, config.List, "", config.Medium, 7, "Regular expressions matching the databases to capture (whole names).", nil)).
		Define(key(DatabaseExcludeConfig, config.List, "", config.Medium, 8, "Regular expressions matching databases not to capture.", nil)).
		Define(key(TableIncludeConfig, config.List, "", config.Medium, 9, "Regular expressions matching <database>.<table> of the tables to capture.", nil)).
		Define(key(TableExcludeConfig, config.List, "", config.Medium, 10, "Regular expressions matching <database>.<table> of tables not to capture.", nil)).
		Define(key(SnapshotModeConfig, config.String, SnapshotInitial, config.Medium, 11,
			"initial: snapshot the tables when there is no committed offset, then read the binlog; initial_only: snapshot then stop; no_data (never): binlog only, from its current end.",
			config.ValidString(SnapshotInitial, SnapshotInitialOnly, SnapshotNoData, SnapshotNever))).
		Define(key(TombstonesOnDeleteConfig, config.Boolean, true, config.Medium, 12, "Follow each delete event with a tombstone.", nil)).
		Define(key(MaxBatchSizeConfig, config.Int, 2048, config.Low, 13, "Maximum records returned by one poll.", config.AtLeast(1))).
		Define(key(TransactionMetadataConfig, config.Boolean, false, config.Medium, 16,
			"Fill the envelope's transaction block and write BEGIN and END records to <topic.prefix>.transaction.", nil)).
		Define(key(IncludeSchemaChangesConfig, config.Boolean, true, config.Medium, 17,
			"Write Debezium's schema change events to <topic.prefix>: one for each DDL statement read in the binlog, and the snapshot's (also snapshot.mode=no_data's) SET, DROP and CREATE statements of the captured databases and tables.", nil)).
		Define(key(SchemaHistoryTopicConfig, config.String, nil, config.Medium, 14,
			"The topic of the captured tables' definitions by binlog position (one partition), so that a replay decodes rows with the columns they were written with. Without it, definitions are read from information_schema.", nil)).
		Define(key(SchemaHistoryServersConfig, config.List, nil, config.Medium, 15,
			"The Kafka brokers (host:port list) of the schema history topic; required with "+SchemaHistoryTopicConfig+". Their security settings are "+historyPrefix+"security.protocol, sasl.*, ssl.* (PEM).", nil))
}

type settings struct {
	host, user, password, prefix string
	port                         int
	serverID                     uint32
	dbInclude, dbExclude         []*regexp.Regexp
	tableInclude, tableExclude   []*regexp.Regexp
	snapshotMode                 string
	tombstones                   bool
	txMetadata                   bool
	schemaChanges                bool
	batch                        int
	historyTopic                 string
	historyServers               []string
}

func parseSettings(props map[string]string) (*settings, error) {
	vals, err := Config().Parse(props)
	if err != nil {
		return nil, err
	}
	s := &settings{host: vals.String(HostnameConfig), port: vals.Int(PortConfig), user: vals.String(UserConfig),
		password: vals.Password(PasswordConfig).Value(), prefix: vals.String(TopicPrefixConfig),
		serverID: uint32(vals.Long(ServerIDConfig)), snapshotMode: vals.String(SnapshotModeConfig),
		tombstones: vals.Bool(TombstonesOnDeleteConfig), batch: vals.Int(MaxBatchSizeConfig),
		txMetadata: vals.Bool(TransactionMetadataConfig), schemaChanges: vals.Bool(IncludeSchemaChangesConfig)}
	if s.snapshotMode == SnapshotNever {
		s.snapshotMode = SnapshotNoData
	}
	var problems []config.Problem
	compile := func(key string) []*regexp.Regexp { return debezium.FilterList(vals, key, &problems) }
	s.dbInclude, s.dbExclude = compile(DatabaseIncludeConfig), compile(DatabaseExcludeConfig)
	s.tableInclude, s.tableExclude = compile(TableIncludeConfig), compile(TableExcludeConfig)
	s.historyTopic, s.historyServers = vals.String(SchemaHistoryTopicConfig), vals.List(SchemaHistoryServersConfig)
	if s.historyTopic != "" && len(s.historyServers) == 0 {
		problems = append(problems, config.Problem{Key: SchemaHistoryServersConfig, Message: fmt.Sprintf(
			"Missing required configuration \"%s\" which has no default value: %s needs it.", SchemaHistoryServersConfig, SchemaHistoryTopicConfig)})
	}
	if len(problems) > 0 {
		return nil, &config.ValidationError{Problems: problems}
	}
	return s, nil
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// capturedDB reports whether db's tables may be captured.
func (s *settings) capturedDB(db string) bool {
	switch db {
	case "mysql", "information_schema", "performance_schema", "sys":
		return false
	}
	return !(len(s.dbInclude) > 0 && !anyMatch(s.dbInclude, db) || anyMatch(s.dbExclude, db))
}

// captured reports whether db.table is captured.
func (s *settings) captured(db, table string) bool {
	switch db {
	case "mysql", "information_schema", "performance_schema", "sys":
		return false
	}
	if len(s.dbInclude) > 0 && !anyMatch(s.dbInclude, db) || anyMatch(s.dbExclude, db) {
		return false
	}
	id := db + "." + table
	if len(s.tableInclude) > 0 {
		return anyMatch(s.tableInclude, id)
	}
	return !anyMatch(s.tableExclude, id)
}
