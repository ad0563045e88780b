package transforms

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// newField returns a configured field transformation for tests.
func newField(t *testing.T, newT func(target) connect.Transformation, tg target, props map[string]string) connect.Transformation {
	t.Helper()
	x := newT(tg)
	if err := x.Configure(props); err != nil {
		t.Fatalf("Configure(%v): %v", props, err)
	}
	return x
}

// applyOK applies x to a copy of r and fails the test on error.
func applyOK(t *testing.T, x connect.Transformation, r connect.TransformRecord) connect.TransformRecord {
	t.Helper()
	keep, err := x.Apply(&r)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !keep {
		t.Fatalf("Apply dropped the record")
	}
	return r
}

// applyErr applies x and checks the error message.
func applyErr(t *testing.T, x connect.Transformation, r connect.TransformRecord, want string) {
	t.Helper()
	_, err := x.Apply(&r)
	if err == nil {
		t.Fatalf("Apply: no error, want %q", want)
	}
	if err.Error() != want {
		t.Fatalf("Apply error = %q, want %q", err, want)
	}
}

// valueRecord is a source record with a value and its schema.
func valueRecord(s *data.Schema, v any) connect.TransformRecord {
	return connect.TransformRecord{Record: connect.Record{Topic: "test", Partition: connect.PartitionOf(0), ValueSchema: s, Value: v}, KafkaOffset: -1}
}

// keyRecord is a source record with a key and its schema.
func keyRecord(s *data.Schema, k any) connect.TransformRecord {
	return connect.TransformRecord{Record: connect.Record{Topic: "test", Partition: connect.PartitionOf(0), KeySchema: s, Key: k}, KafkaOffset: -1}
}

// snapshot renders a value deeply (struct fields, sorted map keys) so
// that a test can tell whether a transformation modified its input.
func snapshot(v any) string {
	var b strings.Builder
	writeSnapshot(&b, v)
	return b.String()
}

func writeSnapshot(b *strings.Builder, v any) {
	switch x := v.(type) {
	case *data.Struct:
		if x == nil {
			b.WriteString("nilstruct")
			return
		}
		fmt.Fprintf(b, "Struct<%p>{", x.Schema())
		for _, f := range x.Schema().Fields {
			b.WriteString(f.Name + "=")
			writeSnapshot(b, x.GetWithoutDefault(f.Name))
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case map[string]any:
		b.WriteByte('{')
		for _, k := range slices.Sorted(maps.Keys(x)) {
			b.WriteString(k + ":")
			writeSnapshot(b, x[k])
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for _, e := range x {
			writeSnapshot(b, e)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	default:
		fmt.Fprintf(b, "%T(%v)", v, v)
	}
}

// equalValue compares transform outputs: structs by schema and values.
func equalValue(a, b any) bool {
	sa, okA := a.(*data.Struct)
	sb, okB := b.(*data.Struct)
	if okA || okB {
		if !okA || !okB || sa == nil || sb == nil {
			return okA && okB && sa == nil && sb == nil
		}
		if !data.Equal(sa.Schema(), sb.Schema()) {
			return false
		}
		for _, f := range sa.Schema().Fields {
			if !equalValue(sa.GetWithoutDefault(f.Name), sb.GetWithoutDefault(f.Name)) {
				return false
			}
		}
		return true
	}
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	if okA || okB {
		if !okA || !okB || len(ma) != len(mb) {
			return false
		}
		for k, va := range ma {
			vb, ok := mb[k]
			if !ok || !equalValue(va, vb) {
				return false
			}
		}
		return true
	}
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	if da, ok := a.(data.Decimal); ok {
		db, ok := b.(data.Decimal)
		return ok && da.Equal(db)
	}
	return reflect.DeepEqual(a, b)
}

func TestJavaSplit(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{name: "pair", in: "a:b", want: []string{"a", "b"}},
		{name: "trailing empty dropped", in: "a:", want: []string{"a"}},
		{name: "trailing empties dropped", in: "a:b::", want: []string{"a", "b"}},
		{name: "leading empty kept", in: ":b", want: []string{"", "b"}},
		{name: "empty", in: "", want: []string{""}},
		{name: "three", in: "a:b:c", want: []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := javaSplit(tt.in, ":"); !slices.Equal(got, tt.want) {
				t.Fatalf("javaSplit(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestJavaStrings(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{name: "double", got: string(data.AppendJavaFloat(nil, 42, 64)), want: "42.0"},
		{name: "double large", got: string(data.AppendJavaFloat(nil, 1e7, 64)), want: "1.0E7"},
		{name: "double small", got: string(data.AppendJavaFloat(nil, 1.5e-4, 64)), want: "1.5E-4"},
		{name: "float", got: string(data.AppendJavaFloat(nil, float64(float32(42.1)), 32)), want: "42.1"},
		{name: "decimal plain", got: javaDecimalString(data.NewDecimal(4200, 2)), want: "42.00"},
		{name: "decimal integer", got: javaDecimalString(data.NewDecimal(42, 0)), want: "42"},
		{name: "decimal negative scale", got: javaDecimalString(data.NewDecimal(42, -2)), want: "4.2E+3"},
		{name: "decimal tiny", got: javaDecimalString(data.NewDecimal(123, 10)), want: "1.23E-8"},
		{name: "decimal small plain", got: javaDecimalString(data.NewDecimal(-1, 6)), want: "-0.000001"},
		{name: "date", got: javaDateString(time.UnixMilli(msPerDay).UTC()), want: "1970-01-02"},
		{name: "time", got: javaDateString(time.UnixMilli(3600000).UTC()), want: "01:00:00.000Z"},
		{name: "timestamp", got: javaDateString(time.UnixMilli(1500000000123).UTC()), want: "2017-07-14T02:40:00.123Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// connectTransformation shortens constructor signatures in tests.
type connectTransformation = connect.Transformation

// containsLine reports whether s has a line equal to line.
func containsLine(s, line string) bool {
	return slices.Contains(strings.Split(s, "\n"), line)
}
