package transforms

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestFieldPluginsClassNames(t *testing.T) {
	var got []string
	for _, p := range fieldPlugins() {
		got = append(got, p.Class)
	}
	want := []string{}
	for _, s := range []string{"InsertField", "ReplaceField", "MaskField", "ExtractField", "HoistField", "Cast", "Flatten", "SetSchemaMetadata"} {
		want = append(want, fieldClassPrefix+s+"$Key", fieldClassPrefix+s+"$Value")
	}
	want = append(want, fieldClassPrefix+"ValueToKey")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("classes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := connect.NewRegistry(fieldPlugins()...); err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
}

// TestFieldPluginsConfig checks that every key is documented and that a
// value of the wrong type, or a missing required key, is rejected by
// Config().Parse with the key's name.
func TestFieldPluginsConfig(t *testing.T) {
	wrong := map[config.Type]string{config.Boolean: "maybe", config.Int: "seven"}
	for _, p := range fieldPlugins() {
		t.Run(p.SimpleName(), func(t *testing.T) {
			def := p.NewTransformation().Config()
			checked := 0
			for _, k := range def.Keys() {
				if k.Doc == "" {
					t.Errorf("key %s has no documentation", k.Name)
				}
				if k.Required() {
					_, err := def.Parse(map[string]string{})
					if err == nil || !strings.Contains(err.Error(), `"`+k.Name+`"`) {
						t.Errorf("missing %s: error %v", k.Name, err)
					}
					checked++
				}
				bad, ok := wrong[k.Type]
				if !ok {
					continue
				}
				_, err := def.Parse(map[string]string{k.Name: bad})
				var verr *config.ValidationError
				if !errors.As(err, &verr) || !strings.Contains(err.Error(), "Invalid value "+bad+" for configuration "+k.Name) {
					t.Errorf("%s=%s: error %v", k.Name, bad, err)
				}
				checked++
			}
			if checked == 0 && p.SimpleName() != "Flatten$Key" && p.SimpleName() != "Flatten$Value" {
				t.Errorf("no key could be checked")
			}
		})
	}
}

// TestFieldTransformsLeaveInputUnmodified applies every field
// transformation to records whose values are shared with the caller and
// checks that those values did not change.
func TestFieldTransformsLeaveInputUnmodified(t *testing.T) {
	inner := data.StructBuilder().Field("x", data.Int32Schema).MustBuild()
	schema := data.StructBuilder().Name("s").
		Field("a", data.Int64Schema).
		Field("b", data.OptionalStringSchema).
		Field("c", inner).
		MustBuild()
	newStruct := func() *data.Struct {
		return data.NewStruct(schema).Set("a", int64(42)).Set("b", "bee").Set("c", data.NewStruct(inner).Set("x", int32(7)))
	}
	newMap := func() map[string]any {
		return map[string]any{"a": int64(42), "b": "bee", "c": map[string]any{"x": int64(7)}}
	}
	tests := []struct {
		name  string
		newT  func(target) connect.Transformation
		props map[string]string
	}{
		{name: "InsertField", newT: newInsertField, props: map[string]string{"topic.field": "t", "static.field": "s", "static.value": "v"}},
		{name: "ReplaceField", newT: newReplaceField, props: map[string]string{"exclude": "b", "renames": "a:aa"}},
		{name: "MaskField", newT: newMaskField, props: map[string]string{"fields": "a,b"}},
		{name: "ExtractField", newT: newExtractField, props: map[string]string{"field": "c.x", "field.syntax.version": "V2"}},
		{name: "HoistField", newT: newHoistField, props: map[string]string{"field": "h"}},
		{name: "Cast", newT: newCast, props: map[string]string{"spec": "a:string"}},
		{name: "Flatten", newT: newFlatten, props: map[string]string{}},
		{name: "SetSchemaMetadata", newT: newSetSchemaMetadata, props: map[string]string{"schema.name": "renamed"}},
		{name: "ValueToKey", newT: func(target) connect.Transformation { return &ValueToKey{} }, props: map[string]string{"fields": "a,b"}},
	}
	for _, tt := range tests {
		for _, tg := range []target{keyTarget, valueTarget} {
			for _, withSchema := range []bool{true, false} {
				if tt.name == "SetSchemaMetadata" && !withSchema {
					continue
				}
				t.Run(tt.name+"/"+tg.String()+map[bool]string{true: "/schema", false: "/schemaless"}[withSchema], func(t *testing.T) {
					x := newField(t, tt.newT, tg, tt.props)
					var s *data.Schema
					var v any = newMap()
					if withSchema {
						s, v = schema, newStruct()
					}
					r := connect.TransformRecord{Record: connect.Record{Topic: "t", Partition: connect.PartitionOf(1), Timestamp: time.UnixMilli(5)}, KafkaOffset: 9}
					tg.set(&r, s, v)
					if tg == keyTarget {
						// ValueToKey reads the value even in its key runs.
						r.ValueSchema, r.Value = s, v
					}
					before := snapshot(v)
					applyOK(t, x, r)
					if after := snapshot(v); after != before {
						t.Fatalf("input modified:\nbefore %s\nafter  %s", before, after)
					}
				})
			}
		}
	}
}
