package debezium

import (
	"strconv"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Version is what Sluice's change events carry in source.version.
const Version = "3.6.1.Final-sluice"

// Snapshot values of the source block's snapshot field (Debezium's
// SnapshotRecord, lower-cased).
const (
	SnapshotTrue        = "true"
	SnapshotFirst       = "first"
	SnapshotFirstInColl = "first_in_data_collection"
	SnapshotLastInColl  = "last_in_data_collection"
	SnapshotLast        = "last"
	SnapshotFalse       = "false"
	SnapshotIncremental = "incremental"
)

// SnapshotPosition is where a snapshot record stands: the snapshot's first
// or last record, its table's first or last.
type SnapshotPosition struct {
	First, Last, FirstOfTable, LastOfTable bool
}

// Marker is the record's source.snapshot value, as Debezium marks snapshot
// records: "last" for the snapshot's last record, "first" for its first,
// then "last_in_data_collection" and "first_in_data_collection" for a
// table's last and first (a table's only record is its last, as in
// Debezium's RelationalSnapshotChangeEventSource), and "true" for the
// others.
func (p SnapshotPosition) Marker() string {
	switch {
	case p.Last:
		return SnapshotLast
	case p.First:
		return SnapshotFirst
	case p.LastOfTable:
		return SnapshotLastInColl
	case p.FirstOfTable:
		return SnapshotFirstInColl
	}
	return SnapshotTrue
}

// snapshotSchema is the source block's snapshot field: an optional
// io.debezium.data.Enum defaulting to "false".
var snapshotSchema = data.NewBuilder(data.TypeString).Name(EnumName).Version(1).
	Parameter(EnumAllowedParam, "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental").
	Default(SnapshotFalse).Optional().MustBuild()

// commonSourceBuilder starts a source block schema with the fields every
// connector shares (Debezium's SchemaFactory.sourceInfoSchemaBuilder).
func commonSourceBuilder(name string) *data.SchemaBuilder {
	return data.StructBuilder().Name(name).Version(1).
		Field("version", data.StringSchema).
		Field("connector", data.StringSchema).
		Field("name", data.StringSchema).
		Field("ts_ms", data.Int64Schema).
		Field("snapshot", snapshotSchema).
		Field("db", data.StringSchema).
		Field("sequence", data.OptionalStringSchema).
		Field("ts_us", data.OptionalInt64Schema).
		Field("ts_ns", data.OptionalInt64Schema)
}

// PostgresSourceSchema is the PostgreSQL connector's source block
// (io.debezium.connector.postgresql.Source).
var PostgresSourceSchema = commonSourceBuilder("io.debezium.connector.postgresql.Source").
	Field("schema", data.StringSchema).
	Field("table", data.StringSchema).
	Field("txId", data.OptionalInt64Schema).
	Field("lsn", data.OptionalInt64Schema).
	Field("xmin", data.OptionalInt64Schema).
	Field("origin", data.OptionalStringSchema).
	Field("origin_lsn", data.OptionalInt64Schema).
	MustBuild()

// Common is what every source block holds.
type Common struct {
	Connector string // "postgresql", "mysql", "mariadb"
	Name      string // topic.prefix
	DB        string
	Snapshot  string // one of the Snapshot* values
	// Time is when the change happened in the database (commit time); the
	// zero time means now.
	Time time.Time
}

func (c Common) fill(s *data.Struct, sequence string) {
	t := c.Time
	if t.IsZero() {
		t = time.Now()
	}
	s.Set("version", Version).Set("connector", c.Connector).Set("name", c.Name).
		Set("ts_ms", t.UnixMilli()).Set("db", c.DB).
		Set("ts_us", t.UnixMicro()).Set("ts_ns", t.UnixNano())
	if c.Snapshot != "" && c.Snapshot != SnapshotFalse {
		// Debezium leaves snapshot unset outside snapshots: converters
		// write its default, "false"; transforms reading it see null.
		s.Set("snapshot", c.Snapshot)
	}
	if sequence != "" {
		s.Set("sequence", sequence)
	}
}

// PostgresSource is a PostgreSQL event's source block.
type PostgresSource struct {
	Common
	Schema, Table string
	// TxID, LSN and LastCommitLSN are omitted when 0.
	TxID          int64
	LSN           int64
	LastCommitLSN int64
}

// Struct returns the source block; sequence is
// ["<last commit lsn>","<lsn>"] as Debezium writes it.
func (p PostgresSource) Struct() *data.Struct {
	return p.Template().At(p.LSN)
}

// PostgresSourceTemplate is the part of a source block that the events of
// one transaction in one table share: all but the event's position. Filling
// it once and completing a copy per event (At) saves building and
// validating the whole block for every change.
type PostgresSourceTemplate struct {
	block      *data.Struct
	lastCommit int64
}

// Template returns p's source block without the event's position (p.LSN
// is not used).
func (p PostgresSource) Template() PostgresSourceTemplate {
	s := data.NewStruct(PostgresSourceSchema)
	p.fill(s, "")
	s.Set("schema", p.Schema).Set("table", p.Table)
	if p.TxID != 0 {
		s.Set("txId", p.TxID)
	}
	return PostgresSourceTemplate{block: s, lastCommit: p.LastCommitLSN}
}

// At returns the source block of the event at lsn: what Struct returns for
// the template's source with LSN lsn.
func (t PostgresSourceTemplate) At(lsn int64) *data.Struct {
	var boxed any
	if lsn != 0 {
		boxed = lsn
	}
	return t.AtBoxed(lsn, boxed)
}

// AtBoxed is At for a caller that has lsn as a value already (boxed, nil
// for 0), which the block then shares.
func (t PostgresSourceTemplate) AtBoxed(lsn int64, boxed any) *data.Struct {
	s := t.block.Clone()
	var b [48]byte
	seq := append(appendLSNJSON(append(b[:0], '['), t.lastCommit), ',')
	seq = append(appendLSNJSON(seq, lsn), ']')
	mustPut(s, pgSequence, string(seq))
	if lsn != 0 {
		mustPut(s, pgLSN, boxed)
	}
	return s
}

// The indexes of the fields of PostgresSourceSchema At sets.
var (
	pgSequence = PostgresSourceSchema.Field("sequence").Index
	pgLSN      = PostgresSourceSchema.Field("lsn").Index
)

// appendLSNJSON appends an LSN as the sequence field writes it: a quoted
// decimal, or null for none.
func appendLSNJSON(b []byte, lsn int64) []byte {
	if lsn == 0 {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = strconv.AppendInt(b, lsn, 10)
	return append(b, '"')
}

// MySQLSourceSchema is the MySQL connector's source block
// (io.debezium.connector.mysql.Source); MariaDBSourceSchema the MariaDB
// connector's, with the same fields.
var (
	MySQLSourceSchema   = mysqlSourceBuilder("io.debezium.connector.mysql.Source").MustBuild()
	MariaDBSourceSchema = mysqlSourceBuilder("io.debezium.connector.mariadb.Source").MustBuild()
)

func mysqlSourceBuilder(name string) *data.SchemaBuilder {
	return commonSourceBuilder(name).
		Field("table", data.OptionalStringSchema).
		Field("server_id", data.Int64Schema).
		Field("gtid", data.OptionalStringSchema).
		Field("file", data.StringSchema).
		Field("pos", data.Int64Schema).
		Field("row", data.Int32Schema).
		Field("thread", data.OptionalInt64Schema).
		Field("query", data.OptionalStringSchema)
}

// MySQLSource is a MySQL or MariaDB event's source block.
type MySQLSource struct {
	Common
	Table    string
	ServerID int64
	GTID     string
	File     string
	Pos      int64
	Row      int32
}

// Struct returns the source block in schema (MySQLSourceSchema or
// MariaDBSourceSchema).
func (m MySQLSource) Struct(schema *data.Schema) *data.Struct {
	s := data.NewStruct(schema)
	m.fill(s, "")
	if m.Table != "" {
		s.Set("table", m.Table)
	}
	s.Set("server_id", m.ServerID).Set("file", m.File).Set("pos", m.Pos).Set("row", m.Row)
	if m.GTID != "" {
		s.Set("gtid", m.GTID)
	}
	return s
}
