package jdbc

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// PostgreSQL's binary paths (an upsert's arrays, an insert's binary COPY)
// write exactly what the statement path (batch.size=1: one INSERT with
// bind parameters per row) writes, for every type with a binary form and
// edge values (dates before 2000 and in year 1, the numeric's scale and
// zeros, NaN and infinities, empty and NUL bytes, NULLs); and a value the
// column cannot hold is the server's error for that row alone.
func TestSinkPostgresBinaryPaths(t *testing.T) {
	db := newPostgres(t)
	schema := data.StructBuilder().Name("typed").Field("id", data.Int64Schema).
		Field("i4", data.OptionalInt32Schema).Field("i2", data.OptionalInt16Schema).
		Field("f8", data.OptionalFloat64Schema).Field("b", data.OptionalBooleanSchema).
		Field("by", data.OptionalBytesSchema).Field("s", data.OptionalStringSchema).Field("vc", data.OptionalStringSchema).
		Field("ch", data.OptionalStringSchema).Field("n", data.DecimalSchema(3).Optional().MustBuild()).
		Field("n52", data.DecimalSchema(2).Optional().MustBuild()).Field("ts", data.TimestampSchema().Optional().MustBuild()).
		Field("d", data.DateSchema().Optional().MustBuild()).Field("tm", data.TimeSchema().Optional().MustBuild()).
		Field("tz", data.TimestampSchema().Optional().MustBuild()).Field("f4", data.OptionalFloat32Schema).
		Field("u", data.OptionalStringSchema).Field("jb", data.OptionalStringSchema).Field("js", data.OptionalStringSchema).MustBuild()
	dec := func(s string) data.Decimal {
		d, err := data.ParseDecimal(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	type row map[string]any
	values := []row{
		{"i4": int32(math.MaxInt32), "i2": int16(math.MinInt16), "f8": 0.1, "b": true, "by": []byte{0, 1, 0xff}, "s": "héllo ✓",
			"vc": "ten chars!", "ch": "ab", "n": dec("12345678901234567890.123"), "n52": dec("999.99"),
			"ts": time.Date(2026, 3, 4, 5, 6, 7, 891e6, time.UTC), "d": day(2000, 2, 29), "tm": time.Date(1970, 1, 1, 23, 59, 59, 999e6, time.UTC),
			"tz": time.Date(2026, 11, 1, 5, 30, 0, 1e6, time.UTC), "f4": float32(0.1),
			"u": "0f8fad5b-d9cb-469f-a165-70867728950e", "jb": `{"b": [1, 2.50, "x\u00e9"], "a": null, "a": {}}`, "js": `{"b": [1, 2.50] , "b": 1}`},
		{"i4": int32(math.MinInt32), "i2": int16(0), "f8": math.Inf(-1), "b": false, "by": []byte{}, "s": "", "vc": "",
			"ch": "", "n": dec("-0.001"), "n52": dec("-0.50"), "ts": time.Date(1969, 12, 31, 23, 59, 59, 999e6, time.UTC),
			"d": day(1900, 3, 1), "tm": time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), "tz": time.Date(1969, 12, 31, 23, 59, 59, 999e6, time.UTC),
			"f4": float32(math.Inf(-1)), "u": "0F8FAD5B-D9CB-469F-A165-70867728950F", "jb": `[]`, "js": ` "é" `},
		{"f8": math.NaN(), "n": dec("0.000"), "n52": dec("100"), "ts": time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "d": day(1, 1, 1),
			"tz": time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "f4": float32(math.NaN())},
		{"f8": math.Inf(1), "n": dec("10000.000"), "n52": dec("-1"), "ts": time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC), "d": day(9999, 12, 31),
			"tz": time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC), "f4": float32(math.MaxFloat32)},
		{"n": dec("0.1"), "s": "tab\tquote\"comma,backslash\\newline\n"},
		{"n": dec("-99999999.9999"), "f8": math.Copysign(0, -1), "f4": float32(math.SmallestNonzeroFloat32)},
		{},
	}
	record := func(off int64, id int64, v row) connect.SinkRecord {
		r := connect.SinkRecord{Offset: off, OriginalTopic: "typed", OriginalOffset: off}
		r.Topic, r.Partition = "typed", connect.PartitionOf(0)
		st := data.NewStruct(schema).Set("id", id)
		for k, x := range v {
			st.Set(k, x)
		}
		r.ValueSchema, r.Value = schema, st
		return r
	}
	var recs []connect.SinkRecord
	for i, v := range values {
		recs = append(recs, record(int64(i), int64(i+1), v))
	}
	create := func(table string) {
		db.exec(t, "CREATE TABLE "+table+` (id bigint PRIMARY KEY, i4 integer, i2 smallint, f8 double precision, b boolean,
			"by" bytea, s text, vc varchar(10), ch char(3), n numeric, n52 numeric(5,2), ts timestamp(3), d date, tm time(3), tz timestamptz(3), f4 real,
			u uuid, jb jsonb, js json)`)
	}
	dump := func(table string) string {
		var out []string
		rs, err := db.sql.Query("SELECT t::text FROM " + table + " t ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			var s string
			if err := rs.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return strings.Join(out, "\n")
	}
	for _, c := range []struct {
		name  string
		props map[string]string
	}{
		{"statements", map[string]string{BatchSizeConfig: "1", InsertModeConfig: InsertModeUpsert}},
		{"upsert_arrays", map[string]string{InsertModeConfig: InsertModeUpsert}},
		{"insert_copy", map[string]string{InsertModeConfig: InsertModeInsert}},
	} {
		create(c.name)
		props := db.props(map[string]string{"name": c.name, "topics": "typed", TableNameFormatConfig: c.name,
			PKModeConfig: PKModeRecordValue, PKFieldsConfig: "id"})
		for k, v := range c.props {
			props[k] = v
		}
		if err := sinkLease(t, props, recs, nil); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	// Upserts of existing and new keys whose batch has columns NULL in
	// every row.
	for _, c := range []struct {
		name  string
		props map[string]string
	}{
		{"statements", map[string]string{BatchSizeConfig: "1"}},
		{"upsert_arrays", nil},
	} {
		props := db.props(map[string]string{"name": c.name, "topics": "typed", TableNameFormatConfig: c.name,
			PKModeConfig: PKModeRecordValue, PKFieldsConfig: "id", InsertModeConfig: InsertModeUpsert})
		for k, v := range c.props {
			props[k] = v
		}
		if err := sinkLease(t, props, []connect.SinkRecord{record(7, 1, row{"s": "updated"}), record(8, 8, row{"vc": "new"})}, nil); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	if got, want := dump("upsert_arrays"), dump("statements"); got != want {
		t.Errorf("after upserts with NULL columns, upsert_arrays holds\n%s\nwant (as statements)\n%s", got, want)
	}
	if n := db.count(t, "SELECT count(*) FROM upsert_arrays WHERE id = 1 AND s = 'updated' AND i4 IS NULL"); n != 1 {
		t.Errorf("row 1 not updated: %s", dump("upsert_arrays"))
	}
	db.exec(t, "DELETE FROM statements WHERE id > 7")
	db.exec(t, "DELETE FROM upsert_arrays WHERE id > 7")
	const all = `i4, i2, f8, b, "by", s, vc, ch, n, n52, ts, d, tm, tz, f4, u, jb, js`
	db.exec(t, "UPDATE upsert_arrays SET ("+all+") = (SELECT "+all+" FROM insert_copy WHERE id = 1) WHERE id = 1")
	db.exec(t, "UPDATE statements SET ("+all+") = (SELECT "+all+" FROM insert_copy WHERE id = 1) WHERE id = 1")
	want := dump("statements")
	if n := db.count(t, "SELECT count(*) FROM statements"); n != len(values) {
		t.Fatalf("statements wrote %d rows:\n%s", n, want)
	}
	for _, table := range []string{"upsert_arrays", "insert_copy"} {
		if got := dump(table); got != want {
			t.Errorf("%s wrote\n%s\nwant (as statements)\n%s", table, got, want)
		}
	}
	// The rows have binary forms: neither path fell back to CSV.
	cols, err := postgres{}.Columns(context.Background(), db.sql, TableID{Name: "statements"})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	var args [][]any
	for _, c := range cols {
		types = append(types, c.Type)
	}
	for _, r := range recs {
		st := r.Value.(*data.Struct)
		var a []any
		for _, c := range cols {
			v, err := sinkValue(schema.Field(c.Name).Schema, st.Get(c.Name), &c, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			a = append(a, v)
		}
		args = append(args, a)
	}
	if _, _, ok := pgArrays(new(bytes.Buffer), types, args); !ok {
		t.Error("the rows have no binary arrays")
	}
	if !appendPGBinary(new(bytes.Buffer), types, args) {
		t.Error("the rows have no binary COPY")
	}
	// A double a real cannot hold exactly (rounded, out of range) has no
	// binary form: float4in rounds its text, or refuses it.
	for _, x := range []float64{0.1, 1e39, math.SmallestNonzeroFloat64} {
		if appendPGValue(new(bytes.Buffer), wireFloat4, x) {
			t.Errorf("%g has a binary real", x)
		}
	}
	// uuid_in's other forms have no binary form here: the server reads
	// them, in CSV.
	for _, u := range []string{"{0f8fad5b-d9cb-469f-a165-70867728950e}", "0f8fad5bd9cb469fa16570867728950e", "0f8fad5b-d9cb-469f-a165-70867728950g"} {
		if appendPGValue(new(bytes.Buffer), wireUUID, u) {
			t.Errorf("%s has a binary uuid", u)
		}
	}
	// A spot check of the reference itself.
	if !strings.Contains(want, `(3,,,NaN,,,,,,0.000,100.00,"0001-01-01 00:00:00",0001-01-01,,"0001-01-01 00:00:00+00",NaN,,,)`) {
		t.Errorf("statements wrote\n%s", want)
	}

	// Rows the columns cannot hold, between good ones: each path reports
	// them alone (too long, out of range, too many digits, a NUL in text).
	bad := []connect.SinkRecord{
		record(0, 101, row{"s": "ok"}),
		record(1, 102, row{"vc": "eleven chars"}),
		record(2, 103, row{"n52": dec("1000.00")}),
		record(3, 104, row{"s": "nul\x00byte"}),
		record(4, 105, row{"ch": "four"}),
		record(5, 106, row{"jb": `{"unterminated": `}),
		record(6, 107, row{"s": "ok too"}),
	}
	for _, mode := range []string{InsertModeUpsert, InsertModeInsert} {
		table := "bad_" + mode
		create(table)
		rep := &reporter{tolerate: true}
		props := db.props(map[string]string{"name": table, "topics": "typed", TableNameFormatConfig: table, InsertModeConfig: mode,
			PKModeConfig: PKModeRecordValue, PKFieldsConfig: "id"})
		if err := sinkLease(t, props, bad, rep); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		var offs []int64
		for _, r := range rep.reported {
			offs = append(offs, r.offset)
		}
		if n := db.count(t, "SELECT count(*) FROM "+table+" WHERE id IN (101, 107)"); n != 2 || db.count(t, "SELECT count(*) FROM "+table) != 2 {
			t.Errorf("%s: %s, want rows 101 and 107 only", mode, dump(table))
		}
		if len(offs) != 5 || offs[0] != 1 || offs[4] != 5 {
			t.Errorf("%s: reported offsets %v, want [1 2 3 4 5]", mode, offs)
		}
	}
}

// appendPGNumeric's groups, weight, sign and scale, as numeric_send
// writes them.
func TestAppendPGNumeric(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []uint16 // ndigits, weight, sign, dscale, digits...
		ok       bool
	}{
		{name: "zero", in: "0", want: []uint16{0, 0, 0, 0}, ok: true},
		{name: "negative zero with scale", in: "-0.00", want: []uint16{0, 0, 0, 2}, ok: true},
		{name: "one group", in: "1234", want: []uint16{1, 0, 0, 0, 1234}, ok: true},
		{name: "two groups", in: "12345", want: []uint16{2, 1, 0, 0, 1, 2345}, ok: true},
		{name: "trailing zero group dropped", in: "10000", want: []uint16{1, 1, 0, 0, 1}, ok: true},
		{name: "fraction", in: "-12.50", want: []uint16{2, 0, 0x4000, 2, 12, 5000}, ok: true},
		{name: "small fraction", in: "0.00001", want: []uint16{1, 0xfffe, 0, 5, 1000}, ok: true},
		{name: "leading zeros", in: "007.1", want: []uint16{2, 0, 0, 1, 7, 1000}, ok: true},
		{name: "exponent refused", in: "1e5"},
		{name: "empty refused", in: ""},
		{name: "point without digits refused", in: "1."},
		{name: "sign only refused", in: "-"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			ok := appendPGNumeric(&buf, c.in)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v", ok, c.ok)
			}
			if !ok {
				return
			}
			b := buf.Bytes()
			if n := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3]); n != len(b)-4 || n != 2*len(c.want) {
				t.Fatalf("length %d for %d bytes, want %d", n, len(b)-4, 2*len(c.want))
			}
			for i, w := range c.want {
				if got := uint16(b[4+2*i])<<8 | uint16(b[5+2*i]); got != w {
					t.Fatalf("word %d = %#x, want %#x (all: % x)", i, got, w, b[4:])
				}
			}
		})
	}
}

// decimalString renders as Decimal.String.
func TestDecimalString(t *testing.T) {
	for _, c := range []struct {
		name     string
		unscaled int64
		scale    int32
	}{
		{"zero", 0, 0}, {"zero with scale", 0, 3}, {"integer", 12345, 0}, {"fraction", 12345, 2},
		{"negative fraction", -12345, 2}, {"small", 5, 4}, {"negative small", -5, 4},
		{"all fraction", 123, 3}, {"min int64", math.MinInt64, 5}, {"max int64", math.MaxInt64, 18},
		{"negative scale", 12, -2}, {"scale beyond int64", 1, 30},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := data.NewDecimal(c.unscaled, c.scale)
			if got, want := decimalString(d), d.String(); got != want {
				t.Fatalf("decimalString = %q, want %q", got, want)
			}
		})
	}
}

// formatTimestamp renders as time.Format's layout.
func TestFormatTimestamp(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{
		time.Date(2026, 3, 4, 5, 6, 7, 891_999_999, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 1e6, ny),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got, want := formatTimestamp(at), at.Format("2006-01-02 15:04:05.000"); got != want {
			t.Errorf("formatTimestamp(%v) = %q, want %q", at, got, want)
		}
	}
}

// Two rows of one upsert batch whose keys differ as strings but not as
// the key column's values (char(3) ignores trailing spaces): ON CONFLICT
// refuses the statement (cardinality violation) and the batch is written
// row by row, in order, so that the last wins as with batch.size=1.
func TestSinkPostgresKeysEqualOnlyInTheColumn(t *testing.T) {
	db := newPostgres(t)
	schema := data.StructBuilder().Name("padded").Field("code", data.StringSchema).Field("name", data.StringSchema).MustBuild()
	var recs []connect.SinkRecord
	for i, kv := range [][2]string{{"a", "first"}, {"b", "b"}, {"a ", "second"}, {"c", "c"}, {"b  ", "b again"}} {
		r := connect.SinkRecord{Offset: int64(i), OriginalTopic: "padded", OriginalOffset: int64(i)}
		r.Topic, r.Partition = "padded", connect.PartitionOf(0)
		r.ValueSchema, r.Value = schema, data.NewStruct(schema).Set("code", kv[0]).Set("name", kv[1])
		recs = append(recs, r)
	}
	for _, c := range []struct{ table, batchSize string }{{"padded_batched", "3000"}, {"padded_statements", "1"}} {
		db.exec(t, "CREATE TABLE "+c.table+" (code char(3) PRIMARY KEY, name text NOT NULL)")
		props := db.props(map[string]string{"name": c.table, TableNameFormatConfig: c.table, InsertModeConfig: InsertModeUpsert,
			PKModeConfig: PKModeRecordValue, PKFieldsConfig: "code", BatchSizeConfig: c.batchSize})
		rep := &reporter{}
		if err := sinkLease(t, props, recs, rep); err != nil {
			t.Fatalf("%s: %v", c.table, err)
		}
		var got []string
		rs, err := db.sql.Query("SELECT rtrim(code) || '=' || name FROM " + c.table + " ORDER BY code")
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var s string
			if err := rs.Scan(&s); err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		rs.Close()
		if g := strings.Join(got, " "); g != "a=second b=b again c=c" {
			t.Errorf("%s holds %s, want a=second b=b again c=c", c.table, g)
		}
	}
}

// An upsert batch of binary arrays is first tried as a plain INSERT
// (insertFirst): a batch of new keys is one INSERT, which fires no UPDATE
// statement trigger; a batch with a key the table holds is upserted from
// its savepoint, as one statement (not row by row), with the INSERT's
// effects rolled back; the next batch upserts directly (the failure's
// penalty), the one after tries the INSERT again. A statement trigger
// logs each statement that completes.
func TestSinkPostgresInsertsFirst(t *testing.T) {
	db := newPostgres(t)
	db.exec(t, "CREATE TABLE orders (id bigint PRIMARY KEY, name text NOT NULL, amount numeric(10,2))")
	db.exec(t, "CREATE TABLE statements (n serial PRIMARY KEY, op text NOT NULL)")
	db.exec(t, `CREATE FUNCTION log_statement() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO statements (op) VALUES (TG_OP); RETURN NULL; END $$`)
	db.exec(t, "CREATE TRIGGER orders_statements AFTER INSERT OR UPDATE ON orders FOR EACH STATEMENT EXECUTE FUNCTION log_statement()")
	props := db.props(map[string]string{InsertModeConfig: InsertModeUpsert, PKModeConfig: PKModeRecordKey, BatchSizeConfig: "4"})
	var off int64 // the next offset of topic orders: the offsets table skips those below
	lease := func(first, last int64, name string) []string {
		t.Helper()
		var recs []connect.SinkRecord
		for id := first; id <= last; id++ {
			recs = append(recs, order(off, id, fmt.Sprint(name, id), "1.50"))
			off++
		}
		if err := sinkLease(t, props, recs, nil); err != nil {
			t.Fatal(err)
		}
		var ops []string
		rs, err := db.sql.Query("SELECT op FROM statements ORDER BY n")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			var op string
			if err := rs.Scan(&op); err != nil {
				t.Fatal(err)
			}
			ops = append(ops, op)
		}
		db.exec(t, "TRUNCATE statements")
		return ops
	}
	// Two batches of new keys: two INSERTs.
	if got, want := strings.Join(lease(1, 8, "a"), " "), "INSERT INSERT"; got != want {
		t.Errorf("new keys: statements %s, want %s", got, want)
	}
	// 7..10 conflicts: upserted (its UPDATE and INSERT triggers); 11..14
	// upserted directly; 15..18 and 19..22 inserted.
	if got, want := strings.Join(lease(7, 22, "b"), " "), "UPDATE INSERT UPDATE INSERT INSERT INSERT"; got != want {
		t.Errorf("a batch with existing keys: statements %s, want %s", got, want)
	}
	var want []string
	for id := 1; id <= 22; id++ {
		name := "a"
		if id >= 7 {
			name = "b"
		}
		want = append(want, fmt.Sprintf("%d:%s%d:1.50", id, name, id))
	}
	if got := strings.Join(rows(t, db, "orders"), " "); got != strings.Join(want, " ") {
		t.Errorf("orders holds %s, want %s", got, strings.Join(want, " "))
	}
	// Where ON CONFLICT (id) has no arbiter (no unique index on id alone,
	// or only a deferrable one), or the table has an INSERT rule, the
	// upsert fails whatever the rows: so does the lease, without an
	// INSERT writing them.
	for table, ddl := range map[string]string{
		"no_arbiter":     "(id bigint NOT NULL, name text NOT NULL, amount numeric(10,2), UNIQUE (id, name))",
		"deferrable_key": "(id bigint PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, name text NOT NULL, amount numeric(10,2))",
		"with_rule":      "(id bigint PRIMARY KEY, name text NOT NULL, amount numeric(10,2))",
	} {
		db.exec(t, "CREATE TABLE "+table+" "+ddl)
		if table == "with_rule" {
			db.exec(t, "CREATE RULE logged AS ON INSERT TO with_rule DO ALSO INSERT INTO statements (op) VALUES ('rule')")
		}
		var recs []connect.SinkRecord
		for id := int64(1); id <= 8; id++ {
			recs = append(recs, order(id-1, id, "x", "1.50"))
		}
		p := db.props(map[string]string{"name": table, TableNameFormatConfig: table, InsertModeConfig: InsertModeUpsert,
			PKModeConfig: PKModeRecordKey, BatchSizeConfig: "4"})
		if err := sinkLease(t, p, recs, nil); err == nil || !strings.Contains(err.Error(), "ON CONFLICT") {
			t.Errorf("%s: the lease returned %v, want ON CONFLICT's error", table, err)
		}
		if n := db.count(t, "SELECT count(*) FROM "+table); n != 0 {
			t.Errorf("%s holds %d rows, want none", table, n)
		}
	}
	// A user who may insert into the table but not update it: the upsert
	// is refused whatever the rows, and so is the lease.
	role := fmt.Sprintf("sluice_no_update_%d", time.Now().UnixNano())
	db.exec(t, "CREATE ROLE "+role+" LOGIN PASSWORD 'pw'")
	t.Cleanup(func() {
		db.exec(t, "DROP OWNED BY "+role)
		db.exec(t, "DROP ROLE "+role)
	})
	db.exec(t, "CREATE TABLE no_update (id bigint PRIMARY KEY, name text NOT NULL, amount numeric(10,2))")
	db.exec(t, "GRANT SELECT, INSERT ON no_update TO "+role)
	var recs []connect.SinkRecord
	for id := int64(1); id <= 8; id++ {
		recs = append(recs, order(id-1, id, "x", "1.50"))
	}
	p := db.props(map[string]string{"name": "no_update", TableNameFormatConfig: "no_update", InsertModeConfig: InsertModeUpsert,
		PKModeConfig: PKModeRecordKey, BatchSizeConfig: "4", ConnectionUserConfig: role, ConnectionPasswordConfig: "pw",
		ExactlyOnceConfig: "false"}) // the offsets table would need the CREATE privilege on the schema
	if err := sinkLease(t, p, recs, nil); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("without the UPDATE privilege, the lease returned %v, want permission denied", err)
	}
	if n := db.count(t, "SELECT count(*) FROM no_update"); n != 0 {
		t.Errorf("no_update holds %d rows, want none", n)
	}
}
