package mysqlcdc

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding"

	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// column is a captured table's column.
type column struct {
	name, dataType, columnType string
	optional, unsigned         bool
	key                        bool
	// autoInc and generated: AUTO_INCREMENT and generated columns
	// (information_schema's EXTRA), for the schema change events.
	autoInc, generated bool
	scale, precision   int
	// def is the column's default value as text (a string literal
	// without its outer quotes), nil when it has none or its default is
	// NULL.
	def *string
	// charset is a string column's character set (nil for others), and
	// decoder its decoder when it is not UTF-8 (see charsets).
	charset *string
	decoder *encoding.Decoder
	schema  *data.Schema
}

// table is a captured table's shape, from information_schema or the
// schema history.
type table struct {
	db, name             string
	topic                string
	cols                 []column
	keyCols              []int
	keySchema, rowSchema *data.Schema
	envelope             *data.Schema
	// recode: a column's binlog values need decoding (decodeBinlog).
	recode bool
}

func (t *table) id() string { return t.db + "." + t.name }

// loadTable reads a table's columns and primary key from
// information_schema.
func (s *settings) loadTable(ctx context.Context, db *sql.DB, source *data.Schema, schema, name string) (*table, error) {
	cols, err := readColumns(ctx, db, schema, name)
	if err != nil {
		return nil, err
	}
	return s.newTable(source, schema, name, cols), nil
}

// readColumns reads a table's columns from information_schema; a table
// that does not exist has none.
func readColumns(ctx context.Context, db *sql.DB, schema, name string) ([]column, error) {
	rows, err := db.QueryContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_KEY,
  COALESCE(NUMERIC_PRECISION, 0), COALESCE(NUMERIC_SCALE, 0), COALESCE(DATETIME_PRECISION, 0), COLUMN_DEFAULT, CHARACTER_SET_NAME, EXTRA
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, schema, name)
	if err != nil {
		return nil, fmt.Errorf("reading the columns of %s.%s: %w", schema, name, err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		var nullable, key string
		var dtPrecision int
		var def, charset, extra sql.NullString
		if err := rows.Scan(&c.name, &c.dataType, &c.columnType, &nullable, &key, &c.precision, &c.scale, &dtPrecision, &def, &charset, &extra); err != nil {
			return nil, err
		}
		x := strings.ToUpper(extra.String)
		c.autoInc, c.generated = strings.Contains(x, "AUTO_INCREMENT"), strings.Contains(x, "GENERATED") || strings.Contains(x, "PERSISTENT")
		c.def = defaultText(def)
		if charset.Valid {
			c.charset = &charset.String
		}
		c.dataType = strings.ToLower(c.dataType)
		c.optional, c.key = nullable == "YES", key == "PRI"
		if c.dataType == "datetime" || c.dataType == "timestamp" || c.dataType == "time" {
			c.precision = dtPrecision
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %s.%s not found", schema, name)
	}
	return cols, nil
}

// newTable builds a table's schemas from its columns (name, types,
// nullability, key, precision and scale set).
func (s *settings) newTable(source *data.Schema, schema, name string, cols []column) *table {
	t := &table{db: schema, name: name, topic: debezium.Topic(s.prefix, schema, name)}
	rb := data.StructBuilder().Optional().Name(t.topic + debezium.ValueSuffix)
	for _, c := range cols {
		c.unsigned = strings.Contains(strings.ToLower(c.columnType), "unsigned")
		if c.charset != nil {
			c.decoder = decoder(*c.charset)
			t.recode = t.recode || c.decoder != nil
		}
		c.schema = columnSchema(c, nil)
		if c.def != nil {
			// The default as the column's Connect value; a default that
			// is not a literal of the column's type (an expression such
			// as current_timestamp()) is left out.
			if v, err := c.value(*c.def); err == nil && v != nil {
				c.schema = columnSchema(c, v)
			}
		}
		rb.Field(c.name, c.schema)
		if c.key {
			t.keyCols = append(t.keyCols, len(t.cols))
		}
		t.cols = append(t.cols, c)
	}
	t.rowSchema = rb.MustBuild()
	if len(t.keyCols) > 0 {
		kb := data.StructBuilder().Name(t.topic + debezium.KeySuffix)
		for _, j := range t.keyCols {
			kb.Field(t.cols[j].name, t.cols[j].schema)
		}
		t.keySchema = kb.MustBuild()
	}
	t.envelope = debezium.EnvelopeSchema(t.topic+debezium.EnvelopeSuffix, t.rowSchema, source)
	return t
}

// defaultText is a column's default as information_schema.COLUMNS gives it
// (MariaDB quotes string literals and says NULL for a NULL default), as
// column.def keeps it. A quote doubled inside a string literal stays
// doubled, as Debezium's DDL parser leaves it (Debezium 3.5's schema of
// the golden test's column ds has it so), so that the
// schemas are the same.
func defaultText(d sql.NullString) *string {
	if !d.Valid || d.String == "NULL" {
		return nil
	}
	s := d.String
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		s = s[1 : len(s)-1]
	}
	return &s
}

// columnSchema maps a column as Debezium's MySQL connector does by default
// (decimal.handling.mode=precise, time.precision.mode=adaptive_time_microseconds,
// bigint.unsigned.handling.mode=long), with def as its default (nil:
// none).
func columnSchema(c column, def any) *data.Schema {
	var b *data.SchemaBuilder
	switch c.dataType {
	case "tinyint", "smallint":
		b = data.NewBuilder(data.TypeInt16)
		if c.dataType == "smallint" && c.unsigned {
			b = data.NewBuilder(data.TypeInt32)
		}
	case "mediumint":
		b = data.NewBuilder(data.TypeInt32)
	case "int", "integer":
		b = data.NewBuilder(data.TypeInt32)
		if c.unsigned {
			b = data.NewBuilder(data.TypeInt64)
		}
	case "bigint":
		b = data.NewBuilder(data.TypeInt64)
	case "float":
		b = data.NewBuilder(data.TypeFloat32)
	case "double", "real":
		b = data.NewBuilder(data.TypeFloat64)
	case "decimal", "numeric":
		b = data.DecimalSchema(int32(c.scale)).Parameter(debezium.DecimalPrecisionParam, strconv.Itoa(c.precision))
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		b = data.NewBuilder(data.TypeBytes)
	case "date":
		b = debezium.Semantic(data.TypeInt32, debezium.DateName)
	case "datetime":
		if c.precision <= 3 {
			b = debezium.Semantic(data.TypeInt64, debezium.TimestampName)
		} else {
			b = debezium.Semantic(data.TypeInt64, debezium.MicroTimestampName)
		}
	case "timestamp":
		b = debezium.Semantic(data.TypeString, debezium.ZonedTimestampName)
	case "time":
		b = debezium.Semantic(data.TypeInt64, debezium.MicroTimeName)
	case "year":
		b = debezium.Semantic(data.TypeInt32, debezium.YearName)
	case "json":
		b = debezium.Semantic(data.TypeString, debezium.JSONName)
	case "enum":
		b = debezium.Semantic(data.TypeString, debezium.EnumName).Parameter(debezium.EnumAllowedParam, strings.Join(enumValues(c.columnType), ","))
	case "set":
		b = debezium.Semantic(data.TypeString, debezium.EnumSetName).Parameter(debezium.EnumAllowedParam, strings.Join(enumValues(c.columnType), ","))
	case "bit":
		// BIT(1) is a boolean, BIT(n) n bits in (n+7)/8 little-endian bytes.
		if c.precision <= 1 {
			b = data.NewBuilder(data.TypeBoolean)
		} else {
			b = debezium.Semantic(data.TypeBytes, debezium.BitsName).Parameter(debezium.BitsLengthParam, strconv.Itoa(c.precision))
		}
	default:
		b = data.NewBuilder(data.TypeString)
	}
	if c.optional {
		b.Optional()
	}
	if def != nil {
		b.Default(def)
	}
	return b.MustBuild()
}

// enumValues are the values of an enum(...) or set(...) column type.
func enumValues(columnType string) []string {
	_, inner, _ := strings.Cut(columnType, "(")
	inner = strings.TrimSuffix(inner, ")")
	var out []string
	for _, v := range strings.Split(inner, ",") {
		out = append(out, strings.ReplaceAll(strings.Trim(v, "'"), "''", "'"))
	}
	return out
}

// value converts a column value, as the snapshot (text) or the binlog
// (go-mysql's Go values) gives it, to the column's Connect value.
func (c *column) value(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	text := func() string {
		switch x := v.(type) {
		case []byte:
			return string(x)
		case string:
			return x
		}
		return fmt.Sprint(v)
	}
	if zeroDate(c.dataType, text()) {
		// MySQL's zero date (0000-00-00, as MariaDB's sql_mode allows by
		// default): null, or where the column cannot be null its default
		// (or else the epoch), as Debezium gives it.
		switch {
		case c.optional:
			return nil, nil
		case c.schema.Default != nil:
			return c.schema.Default, nil
		case c.schema.Type == data.TypeInt32:
			return int32(0), nil
		case c.schema.Type == data.TypeInt64:
			return int64(0), nil
		}
		return "1970-01-01T00:00:00Z", nil
	}
	switch c.schema.Type {
	case data.TypeBoolean:
		// BIT(1): the binlog gives an integer, the snapshot the bit's byte.
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case []byte:
			return len(x) == 1 && x[0] != 0, nil
		}
		return strconv.ParseBool(text())
	case data.TypeInt16, data.TypeInt32, data.TypeInt64:
		var n int64
		switch x := v.(type) {
		case int8:
			n = int64(x)
			if c.unsigned {
				n = int64(uint8(x))
			}
		case int16:
			n = int64(x)
			if c.unsigned {
				n = int64(uint16(x))
			}
		case int32:
			n = int64(x)
			if c.unsigned {
				n = int64(uint32(x))
				if c.dataType == "mediumint" {
					n = int64(uint32(x) & 0xffffff)
				}
			}
		case int64:
			n = x
		case uint64:
			n = int64(x)
		default:
			if c.schema.Name == debezium.DateName {
				d, err := time.Parse("2006-01-02", text())
				return int32(d.Unix() / 86400), err
			}
			if c.schema.Name == debezium.TimestampName || c.schema.Name == debezium.MicroTimestampName {
				ts, err := time.Parse("2006-01-02 15:04:05.999999", text())
				if c.schema.Name == debezium.TimestampName {
					return ts.UnixMilli(), err
				}
				return ts.UnixMicro(), err
			}
			if c.schema.Name == debezium.MicroTimeName {
				return parseTime(text())
			}
			var err error
			if n, err = strconv.ParseInt(text(), 10, 64); err != nil {
				return nil, fmt.Errorf("column %s: %w", c.name, err)
			}
		}
		switch c.schema.Type {
		case data.TypeInt16:
			return int16(n), nil
		case data.TypeInt32:
			return int32(n), nil
		}
		return n, nil
	case data.TypeFloat32:
		switch x := v.(type) {
		case float32:
			return x, nil
		case float64:
			return float32(x), nil
		}
		f, err := strconv.ParseFloat(text(), 32)
		return float32(f), err
	case data.TypeFloat64:
		if x, ok := v.(float64); ok {
			return x, nil
		}
		return strconv.ParseFloat(text(), 64)
	case data.TypeBytes:
		if c.schema.Name == data.DecimalName {
			d, err := data.ParseDecimal(text())
			if err != nil {
				return nil, err
			}
			return d.Rescale(int32(c.scale))
		}
		if c.schema.Name == debezium.BitsName {
			return bits(v, (c.precision+7)/8)
		}
		b, ok := v.([]byte)
		if !ok {
			b = []byte(text())
		}
		if c.dataType == "binary" {
			// The binlog drops a BINARY(n) value's trailing zero bytes;
			// Debezium gives all n.
			// (A new slice: b may share the row event's buffer.)
			if n := typeLength(c.columnType); len(b) < n {
				padded := make([]byte, n)
				copy(padded, b)
				b = padded
			}
		}
		return b, nil
	case data.TypeString:
		if c.schema.Name == debezium.ZonedTimestampName {
			ts, err := time.Parse("2006-01-02 15:04:05.999999", text())
			if err != nil {
				return nil, err
			}
			layout := "2006-01-02T15:04:05"
			if c.precision > 0 {
				layout += "." + strings.Repeat("0", c.precision)
			}
			return ts.UTC().Format(layout) + "Z", nil
		}
		if c.schema.Name == debezium.EnumName {
			if i, ok := v.(int64); ok {
				vals := enumValues(c.columnType)
				if i >= 1 && int(i) <= len(vals) {
					return vals[i-1], nil
				}
				return "", nil
			}
		}
		if c.schema.Name == debezium.EnumSetName {
			// The binlog gives a set as the bit mask of its members.
			if mask, ok := v.(int64); ok {
				var members []string
				for i, m := range enumValues(c.columnType) {
					if mask&(1<<i) != 0 {
						members = append(members, m)
					}
				}
				return strings.Join(members, ","), nil
			}
		}
		return text(), nil
	}
	return nil, fmt.Errorf("column %s: unexpected schema %v", c.name, c.schema)
}

// typeLength is the n of a column type such as binary(n), 0 if it has
// none.
func typeLength(columnType string) int {
	_, inner, ok := strings.Cut(columnType, "(")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(inner, ")"))
	return n
}

// zeroDate reports whether s is MySQL's zero date, or a zero datetime or
// timestamp, of a column of dataType.
func zeroDate(dataType, s string) bool {
	switch dataType {
	case "date", "datetime", "timestamp":
		return strings.HasPrefix(s, "0000-00-00")
	}
	return false
}

// bits is a BIT(n) value in n bytes, little-endian, as Debezium gives it:
// the binlog gives the bits as an integer, the snapshot as big-endian
// bytes.
func bits(v any, n int) ([]byte, error) {
	out := make([]byte, n)
	switch x := v.(type) {
	case int64:
		for i := range out {
			out[i] = byte(uint64(x) >> (8 * i))
		}
	case []byte:
		for i := 0; i < len(x) && i < n; i++ {
			out[i] = x[len(x)-1-i]
		}
	default:
		return nil, fmt.Errorf("bits: unexpected %T", v)
	}
	return out, nil
}

func parseTime(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	hms, frac, _ := strings.Cut(s, ".")
	parts := strings.Split(hms, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("time %q", s)
	}
	var total int64
	for _, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return 0, err
		}
		total = total*60 + n
	}
	us := total * 1e6
	if frac != "" {
		f, err := strconv.ParseInt((frac + "000000")[:6], 10, 64)
		if err != nil {
			return 0, err
		}
		us += f
	}
	if neg {
		us = -us
	}
	return us, nil
}

// row builds the Value struct of a row given in column order.
func (t *table) row(vals []any) (*data.Struct, error) {
	if len(vals) != len(t.cols) {
		return nil, fmt.Errorf("a row of %s has %d columns but the table has %d now: the table changed after the change was logged, "+
			"and Sluice keeps no schema history to decode it", t.id(), len(vals), len(t.cols))
	}
	out := data.NewStruct(t.rowSchema)
	for i := range t.cols {
		c := &t.cols[i]
		v, err := c.value(vals[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.id(), err)
		}
		if v == nil {
			continue
		}
		if err := out.Put(c.name, v); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.id(), c.name, err)
		}
	}
	return out, nil
}

func (t *table) key(vals []any) (*data.Struct, error) {
	if t.keySchema == nil {
		return nil, nil
	}
	k := data.NewStruct(t.keySchema)
	for _, j := range t.keyCols {
		v, err := t.cols[j].value(vals[j])
		if err != nil {
			return nil, err
		}
		if err := k.Put(t.cols[j].name, v); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
