package sink

import (
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

var address = data.StructBuilder().Optional().
	Field("street", data.StringSchema).
	Field("zip", data.OptionalInt32Schema).
	MustBuild()

var allTypes = data.StructBuilder().Name("com.example.All").
	Field("b", data.BooleanSchema).
	Field("i8", data.Int8Schema).
	Field("i16", data.Int16Schema).
	Field("i32", data.Int32Schema).
	Field("i64", data.Int64Schema).
	Field("f32", data.Float32Schema).
	Field("f64", data.Float64Schema).
	Field("s", data.StringSchema).
	Field("raw", data.BytesSchema).
	Field("dec", data.DecimalSchema(2).Parameter(DecimalPrecisionParam, "10").MustBuild()).
	Field("dec_default", data.DecimalSchema(3).Optional().MustBuild()).
	Field("day", data.DateSchema().MustBuild()).
	Field("tod", data.TimeSchema().MustBuild()).
	Field("ts", data.TimestampSchema().MustBuild()).
	Field("opt", data.OptionalStringSchema).
	Field("addr", address).
	Field("tags", data.ArrayBuilder(data.StringSchema).Optional().MustBuild()).
	Field("scores", data.MapBuilder(data.StringSchema, data.OptionalInt64Schema).Optional().MustBuild()).
	MustBuild()

const allTypesSchema = `message com.example.All {
	required boolean b;
	required int32 i8 (INT(8,true));
	required int32 i16 (INT(16,true));
	required int32 i32 (INT(32,true));
	required int64 i64 (INT(64,true));
	required float f32;
	required double f64;
	required binary s (STRING);
	required binary raw;
	required binary dec (DECIMAL(10,2));
	optional binary dec_default (DECIMAL(64,3));
	required int32 day (DATE);
	required int32 tod (TIME(isAdjustedToUTC=true,unit=MILLIS));
	required int64 ts (TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS));
	optional binary opt (STRING);
	optional group addr {
		required binary street (STRING);
		optional int32 zip (INT(32,true));
	}
	optional group tags (LIST) {
		repeated group list {
			required binary element (STRING);
		}
	}
	optional group scores (MAP) {
		repeated group key_value {
			required binary key (STRING);
			optional int64 value (INT(64,true));
		}
	}
}`

func allTypesRecords() []connect.SinkRecord {
	full := data.NewStruct(allTypes).
		Set("b", true).Set("i8", int8(-8)).Set("i16", int16(1600)).Set("i32", int32(-32)).
		Set("i64", int64(1)<<40).Set("f32", float32(1.5)).Set("f64", -2.25).Set("s", "héllo").
		Set("raw", []byte{0, 1, 2}).Set("dec", data.NewDecimal(-12345, 2)).
		Set("dec_default", data.Decimal{Unscaled: big.NewInt(7), Scale: 3}).
		Set("day", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)).
		Set("tod", time.UnixMilli(3723004).UTC()).
		Set("ts", time.UnixMilli(1700000000123).UTC()).
		Set("opt", "x").
		Set("addr", data.NewStruct(address).Set("street", "Main").Set("zip", int32(12345))).
		Set("tags", []any{"a", "b"}).
		Set("scores", map[string]any{"z": int64(1), "a": nil})
	sparse := data.NewStruct(allTypes).
		Set("b", false).Set("i8", int8(127)).Set("i16", int16(-1)).Set("i32", int32(0)).
		Set("i64", int64(0)).Set("f32", float32(0)).Set("f64", 0.0).Set("s", "").
		Set("raw", []byte{}).Set("dec", data.NewDecimal(0, 2)).
		Set("day", time.Unix(0, 0).UTC()).Set("tod", time.Unix(0, 0).UTC()).Set("ts", time.Unix(0, 0).UTC()).
		Set("addr", data.NewStruct(address).Set("street", "Side")).
		Set("tags", []any{}).
		Set("scores", map[string]any{})
	return []connect.SinkRecord{record(allTypes, full), record(allTypes, sparse), record(allTypes, data.NewStruct(allTypes).
		Set("b", true).Set("i8", int8(0)).Set("i16", int16(0)).Set("i32", int32(0)).Set("i64", int64(0)).
		Set("f32", float32(0)).Set("f64", 0.0).Set("s", "n").Set("raw", []byte("n")).Set("dec", data.NewDecimal(1, 2)).
		Set("day", time.Unix(0, 0).UTC()).Set("tod", time.Unix(0, 0).UTC()).Set("ts", time.Unix(0, 0).UTC()))}
}

// wantRows are allTypesRecords as the independent reader returns them.
var wantRows = []string{
	`map[addr:map[street:"Main" zip:12345] b:true day:19782 dec:-123.45 dec_default:0.007 f32:1.5 f64:-2.25 i16:1600 i32:-32 i64:1099511627776 i8:-8 opt:"x" raw:"\x00\x01\x02" s:"héllo" scores:map[a:<nil> z:1] tags:["a" "b"] tod:3723004 ts:1700000000123]`,
	`map[addr:map[street:"Side" zip:<nil>] b:false day:0 dec:0 dec_default:<nil> f32:0 f64:0 i16:-1 i32:0 i64:0 i8:127 opt:<nil> raw:"" s:"" scores:map[] tags:[] tod:0 ts:0]`,
	`map[addr:<nil> b:true day:0 dec:0.01 dec_default:<nil> f32:0 f64:0 i16:0 i32:0 i64:0 i8:0 opt:<nil> raw:"n" s:"n" scores:<nil> tags:<nil> tod:0 ts:0]`,
}

func TestParquetTypesRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		codec string
		ext   string
	}{
		{name: "none", codec: "none", ext: ".parquet"},
		{name: "snappy", codec: "snappy", ext: ".snappy.parquet"},
		{name: "gzip", codec: "gzip", ext: ".gz.parquet"},
		{name: "zstd", codec: "zstd", ext: ".zstd.parquet"},
		{name: "uncompressed alias", codec: "UNCOMPRESSED", ext: ".parquet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := map[string]string{ParquetCodecConfig: tt.codec}
			f, err := NewParquetFormat(props)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Extension(); got != tt.ext {
				t.Errorf("Extension() = %q, want %q", got, tt.ext)
			}
			b := writeFile(t, props, allTypes, allTypesRecords())
			schema, rows, pf := readFile(t, b)
			if schema != allTypesSchema {
				t.Errorf("schema:\n%s\nwant:\n%s", schema, allTypesSchema)
			}
			if pf.NumRows() != 3 || len(rows) != 3 {
				t.Fatalf("NumRows() = %d, rows read = %d, want 3", pf.NumRows(), len(rows))
			}
			for i, row := range rows {
				if got := fmt.Sprint(norm(row)); got != wantRows[i] {
					t.Errorf("row %d:\n got %s\nwant %s", i, got, wantRows[i])
				}
			}
			if got := pf.Metadata().CreatedBy; got != ParquetCreatedBy {
				t.Errorf("created_by = %q", got)
			}
		})
	}
}
