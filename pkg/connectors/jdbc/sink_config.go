package jdbc

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Sink keys (Confluent's JdbcSinkConfig names, plus Sluice's exactly.once.*).
const (
	InsertModeConfig       = "insert.mode"
	BatchSizeConfig        = "batch.size"
	DeleteEnabledConfig    = "delete.enabled"
	TableNameFormatConfig  = "table.name.format"
	PKModeConfig           = "pk.mode"
	PKFieldsConfig         = "pk.fields"
	FieldsWhitelistConfig  = "fields.whitelist"
	AutoCreateConfig       = "auto.create"
	AutoEvolveConfig       = "auto.evolve"
	MaxRetriesConfig       = "max.retries"
	RetryBackoffConfig     = "retry.backoff.ms"
	ExactlyOnceConfig      = "exactly.once.enabled"
	MySQLLoadDataConfig    = "mysql.load.data.local"
	ExactlyOnceTableConfig = "exactly.once.offsets.table"
)

// insert.mode values.
const (
	InsertModeInsert = "insert"
	InsertModeUpsert = "upsert"
	InsertModeUpdate = "update"
)

// pk.mode values.
const (
	PKModeNone        = "none"
	PKModeKafka       = "kafka"
	PKModeRecordKey   = "record_key"
	PKModeRecordValue = "record_value"
)

// DefaultOffsetsTable is where the sink keeps, per connector and Kafka
// partition, the next offset it has written (exactly.once.offsets.table).
const DefaultOffsetsTable = "__sluice_offsets"

// The default column names of pk.mode=kafka.
var kafkaPKFields = []string{"__connect_topic", "__connect_partition", "__connect_offset"}

const (
	writesGroup  = "Writes"
	mappingGroup = "Data Mapping"
	ddlGroup     = "DDL Support"
	retriesGroup = "Retries"
)

// SinkConfig declares the sink connector's keys.
func SinkConfig() *config.Def {
	d := connectionKeys(config.NewDef())
	return d.
		Define(config.Key{Name: InsertModeConfig, Type: config.String, Default: InsertModeInsert,
			Validator:  config.CaseInsensitiveValidString(InsertModeInsert, InsertModeUpsert, InsertModeUpdate),
			Importance: config.High, Group: writesGroup, OrderInGroup: 1, Width: config.WidthMedium,
			Doc: "insert (INSERT), upsert (PostgreSQL INSERT .. ON CONFLICT DO UPDATE, MySQL INSERT .. ON DUPLICATE KEY " +
				"UPDATE) or update (UPDATE by the primary key)."}).
		Define(config.Key{Name: BatchSizeConfig, Type: config.Int, Default: 3000, Validator: config.AtLeast(1),
			Importance: config.Medium, Group: writesGroup, OrderInGroup: 2, Width: config.WidthShort,
			Doc: "Rows written at once (PostgreSQL: one COPY; MySQL: one multi-row statement); it bounds the task's memory."}).
		Define(config.Key{Name: DeleteEnabledConfig, Type: config.Boolean, Default: false,
			Importance: config.Medium, Group: writesGroup, OrderInGroup: 3, Width: config.WidthShort,
			Doc: "Delete the row of a tombstone (null value); needs pk.mode=record_key. Without it tombstones are skipped."}).
		Define(config.Key{Name: ExactlyOnceConfig, Type: config.Boolean, Default: true,
			Importance: config.Medium, Group: writesGroup, OrderInGroup: 4, Width: config.WidthShort,
			Doc: "Write each lease's rows and its partitions' next offsets (in exactly.once.offsets.table) in one " +
				"transaction, and skip records the table says are written: a replayed or zombie lease never writes a " +
				"row twice, even with insert.mode=insert. Kafka's consumer group offsets still advance."}).
		Define(config.Key{Name: MySQLLoadDataConfig, Type: config.Boolean, Default: false,
			Importance: config.Low, Group: writesGroup, OrderInGroup: 6, Width: config.WidthShort,
			Doc: "MySQL/MariaDB (Sluice): write insert and upsert batches with LOAD DATA LOCAL INFILE, streamed from " +
				"memory (upserts through a temporary table and INSERT .. SELECT .. ON DUPLICATE KEY UPDATE). The server " +
				"needs local_infile=ON. A batch with any warning is rolled back and written with statements."}).
		Define(config.Key{Name: ExactlyOnceTableConfig, Type: config.String, Default: DefaultOffsetsTable, Validator: config.NonEmptyString(),
			Importance: config.Low, Group: writesGroup, OrderInGroup: 5, Width: config.WidthMedium,
			Doc: "The table of written offsets, (connector, topic, kafka_partition, next_offset), created when missing."}).
		Define(config.Key{Name: TableNameFormatConfig, Type: config.String, Default: "${topic}", Validator: config.NonEmptyString(),
			Importance: config.Medium, Group: mappingGroup, OrderInGroup: 1, Width: config.WidthLong,
			Doc: "The destination table's name; ${topic} is the record's topic. schema.table names another schema."}).
		Define(config.Key{Name: PKModeConfig, Type: config.String, Default: PKModeNone,
			Validator:  config.CaseInsensitiveValidString(PKModeNone, PKModeKafka, PKModeRecordKey, PKModeRecordValue),
			Importance: config.High, Group: mappingGroup, OrderInGroup: 2, Width: config.WidthMedium,
			Doc: "Where the primary key comes from: none, kafka (topic, partition, offset), record_key, record_value."}).
		Define(config.Key{Name: PKFieldsConfig, Type: config.List, Default: "",
			Importance: config.Medium, Group: mappingGroup, OrderInGroup: 3, Width: config.WidthLong,
			Doc: "The primary key's columns: for kafka the three column names (default __connect_topic, " +
				"__connect_partition, __connect_offset); for record_key a primitive key's column (required) or the " +
				"struct key's fields (default all); for record_value the value's fields (default all)."}).
		Define(config.Key{Name: FieldsWhitelistConfig, Type: config.List, Default: "",
			Importance: config.Medium, Group: mappingGroup, OrderInGroup: 4, Width: config.WidthLong,
			Doc: "The value's fields to write; empty for all."}).
		Define(config.Key{Name: AutoCreateConfig, Type: config.Boolean, Default: false,
			Importance: config.Medium, Group: ddlGroup, OrderInGroup: 1, Width: config.WidthShort,
			Doc: "Create a missing table (CREATE TABLE) from the record's schema and primary key."}).
		Define(config.Key{Name: AutoEvolveConfig, Type: config.Boolean, Default: false,
			Importance: config.Medium, Group: ddlGroup, OrderInGroup: 2, Width: config.WidthShort,
			Doc: "Add missing columns (ALTER TABLE .. ADD, always nullable); columns are never dropped."}).
		Define(config.Key{Name: MaxRetriesConfig, Type: config.Int, Default: 10, Validator: config.AtLeast(0),
			Importance: config.Medium, Group: retriesGroup, OrderInGroup: 1, Width: config.WidthShort,
			Doc: "Retries of connecting and opening the lease's transaction before the task fails. A failure after " +
				"rows were written fails the lease, which is retried whole (its transaction was rolled back)."}).
		Define(config.Key{Name: RetryBackoffConfig, Type: config.Int, Default: 3000, Validator: config.AtLeast(0),
			Importance: config.Medium, Group: retriesGroup, OrderInGroup: 2, Width: config.WidthShort,
			Doc: "Milliseconds between retries."}).
		Define(config.Key{Name: TableTypesConfig, Type: config.List, Default: "TABLE", Validator: config.ValidList("TABLE", "VIEW"),
			Importance: config.Low, Group: ddlGroup, OrderInGroup: 3, Width: config.WidthShort,
			Doc: "Table types the sink writes to (accepted for compatibility; tables and views are both written)."}).
		Rule(sinkProblems)
}

type sinkSettings struct {
	conn         connection
	insertMode   string
	batchSize    int
	deleteOn     bool
	eos          bool
	offsetsTable string
	tableFormat  string
	pkMode       string
	pkFields     []string
	whitelist    []string
	autoCreate   bool
	autoEvolve   bool
	maxRetries   int
	retryBackoff time.Duration
	connector    string
}

func parseSink(props map[string]string) (sinkSettings, error) {
	vals, err := SinkConfig().Parse(props)
	if err != nil {
		return sinkSettings{}, err
	}
	conn, err := parseConnection(vals)
	if err != nil {
		return sinkSettings{}, err
	}
	if md, ok := conn.dialect.(mysqlDialect); ok {
		md.loadData = vals.Bool(MySQLLoadDataConfig)
		md.stmts = &mysqlStmts{}
		conn.dialect = md
	}
	return sinkSettings{
		conn:         conn,
		insertMode:   strings.ToLower(vals.String(InsertModeConfig)),
		batchSize:    vals.Int(BatchSizeConfig),
		deleteOn:     vals.Bool(DeleteEnabledConfig),
		eos:          vals.Bool(ExactlyOnceConfig),
		offsetsTable: vals.String(ExactlyOnceTableConfig),
		tableFormat:  vals.String(TableNameFormatConfig),
		pkMode:       strings.ToLower(vals.String(PKModeConfig)),
		pkFields:     vals.List(PKFieldsConfig),
		whitelist:    vals.List(FieldsWhitelistConfig),
		autoCreate:   vals.Bool(AutoCreateConfig),
		autoEvolve:   vals.Bool(AutoEvolveConfig),
		maxRetries:   vals.Int(MaxRetriesConfig),
		retryBackoff: time.Duration(vals.Int(RetryBackoffConfig)) * time.Millisecond,
		connector:    props["name"],
	}, nil
}

func sinkProblems(vals *config.Values) []config.Problem {
	var ps []config.Problem
	pk := strings.ToLower(vals.String(PKModeConfig))
	if vals.Bool(DeleteEnabledConfig) && pk != PKModeRecordKey {
		ps = append(ps, config.Problem{Key: DeleteEnabledConfig, Message: "Deletes are only supported for pk.mode record_key"})
	}
	mode := strings.ToLower(vals.String(InsertModeConfig))
	if mode != InsertModeInsert && pk == PKModeNone {
		ps = append(ps, config.Problem{Key: PKModeConfig, Message: fmt.Sprintf("insert.mode %s needs a primary key: set pk.mode", mode)})
	}
	if pk == PKModeKafka && len(vals.List(PKFieldsConfig)) != 0 && len(vals.List(PKFieldsConfig)) != 3 {
		ps = append(ps, config.Problem{Key: PKFieldsConfig, Message: "PK mode for kafka requires exactly 3 fields (topic, partition, offset)"})
	}
	if _, err := parseURL(vals.String(ConnectionURLConfig)); err != nil {
		ps = append(ps, config.Problem{Key: ConnectionURLConfig, Message: err.Error()})
	}
	return ps
}
