package sink

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// InferParquetSchema returns the schema a schemaless value is written with: v must
// be a map[string]any (JsonConverter's schemaless object) or a *data.Struct
// (whose own schema is returned). The rules, also in
// parquet_doc.go:
//
//   - the result is a required STRUCT whose fields are sorted by name and
//     all optional;
//   - bool → BOOLEAN, int8/int16/int32/int64 → INT8/…/INT64, float32 →
//     FLOAT32, float64 → FLOAT64, string → STRING, []byte → BYTES,
//     data.Decimal → Decimal of its scale, time.Time → Timestamp;
//   - map[string]any → a nested STRUCT by the same rules;
//   - []any → an ARRAY of optional elements whose schema is the mergeInferred of the
//     elements' schemas (INT64 and FLOAT64 mergeInferred to FLOAT64; STRUCTs mergeInferred
//     field by field); elements of other differing types are an error;
//   - a value whose type cannot be known — null, an empty array or object,
//     an array of such values, an object of only such values — adds no
//     field.
//
// The error is a *data.Error for a value that cannot be written as
// Parquet.
func InferParquetSchema(v any) (*data.Schema, error) {
	switch x := v.(type) {
	case *data.Struct:
		return x.Schema(), nil
	case map[string]any:
		s, err := inferStruct(x, "")
		if err != nil {
			return nil, err
		}
		if s == nil {
			return nil, &data.Error{Msg: "parquet: cannot infer a schema from an object without typed fields"}
		}
		s.Optional = false
		return s, nil
	case nil:
		return nil, &data.Error{Msg: "parquet: cannot infer a schema from a null value"}
	}
	return nil, &data.Error{Msg: fmt.Sprintf("parquet: a schemaless value must be an object to be written as Parquet, not a %T", v)}
}

// inferParquet returns the optional schema of v, or nil when its type cannot be
// known.
func inferParquet(v any, path string) (*data.Schema, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return data.OptionalBooleanSchema, nil
	case int8:
		return data.OptionalInt8Schema, nil
	case int16:
		return data.OptionalInt16Schema, nil
	case int32:
		return data.OptionalInt32Schema, nil
	case int64:
		return data.OptionalInt64Schema, nil
	case float32:
		return data.OptionalFloat32Schema, nil
	case float64:
		return data.OptionalFloat64Schema, nil
	case string:
		return data.OptionalStringSchema, nil
	case []byte:
		return data.OptionalBytesSchema, nil
	case data.Decimal:
		return data.DecimalSchema(x.Scale).Optional().Build()
	case time.Time:
		return data.TimestampSchema().Optional().Build()
	case map[string]any:
		return inferStruct(x, path)
	case []any:
		var elem *data.Schema
		for i, e := range x {
			es, err := inferParquet(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if elem, err = mergeInferred(elem, es, path+"[]"); err != nil {
				return nil, err
			}
		}
		if elem == nil {
			return nil, nil
		}
		return &data.Schema{Type: data.TypeArray, Optional: true, ValueSchema: elem}, nil
	case *data.Struct:
		s := *x.Schema()
		s.Optional = true
		return &s, nil
	}
	return nil, &data.Error{Field: path, Msg: fmt.Sprintf("parquet: %s: cannot write a schemaless %T", pathName(path), v)}
}

func pathName(path string) string {
	if path == "" {
		return "value"
	}
	return strings.TrimPrefix(path, ".")
}

func inferStruct(m map[string]any, path string) (*data.Schema, error) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	s := &data.Schema{Type: data.TypeStruct, Optional: true}
	for _, k := range names {
		fs, err := inferParquet(m[k], path+"."+k)
		if err != nil {
			return nil, err
		}
		if fs != nil {
			s.Fields = append(s.Fields, data.Field{Name: k, Index: len(s.Fields), Schema: fs})
		}
	}
	if len(s.Fields) == 0 {
		return nil, nil
	}
	return s, nil
}

// mergeInferred returns the schema that fits values of both a and b (either may be
// nil, unknown).
func mergeInferred(a, b *data.Schema, path string) (*data.Schema, error) {
	switch {
	case a == nil:
		return b, nil
	case b == nil:
		return a, nil
	case a.Type == data.TypeInt64 && b.Type == data.TypeFloat64 && b.Name == "":
		return b, nil
	case a.Type == data.TypeFloat64 && b.Type == data.TypeInt64 && b.Name == "":
		return a, nil
	case a.Type != b.Type || a.Name != b.Name:
		return nil, &data.Error{Field: path, Msg: fmt.Sprintf("parquet: %s: array elements of different types (%v and %v) cannot be written as Parquet", pathName(path), a, b)}
	}
	switch a.Type {
	case data.TypeStruct:
		fields := map[string]*data.Schema{}
		for _, f := range a.Fields {
			fields[f.Name] = f.Schema
		}
		for _, f := range b.Fields {
			m, err := mergeInferred(fields[f.Name], f.Schema, path+"."+f.Name)
			if err != nil {
				return nil, err
			}
			fields[f.Name] = m
		}
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		slices.Sort(names)
		s := &data.Schema{Type: data.TypeStruct, Optional: true}
		for _, k := range names {
			s.Fields = append(s.Fields, data.Field{Name: k, Index: len(s.Fields), Schema: fields[k]})
		}
		return s, nil
	case data.TypeArray:
		elem, err := mergeInferred(a.ValueSchema, b.ValueSchema, path+"[]")
		if err != nil {
			return nil, err
		}
		return &data.Schema{Type: data.TypeArray, Optional: true, ValueSchema: elem}, nil
	case data.TypeBytes:
		if a.Name == data.DecimalName && !data.Equal(a, b) {
			return nil, &data.Error{Field: path, Msg: fmt.Sprintf("parquet: %s: decimals of different scales cannot be written in one column", pathName(path))}
		}
	}
	return a, nil
}

// untyped reports whether v adds no field to an inferred schema (see
// InferParquetSchema): such a value fits a file whose schema lacks its field.
func untyped(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		for _, e := range x {
			if !untyped(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range x {
			if !untyped(e) {
				return false
			}
		}
		return true
	}
	return false
}
