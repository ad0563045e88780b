package data

import (
	"bytes"
	"fmt"
	"reflect"
	"time"
)

// DataError reports a value that does not fit its schema (Connect's DataException).
type DataError struct {
	// Field is the dotted path to the offending value, empty at the top level.
	Field string
	Msg   string
}

func (e *DataError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return fmt.Sprintf("%s (field %s)", e.Msg, e.Field)
}

// Validate checks that value fits schema, recursing into arrays, maps and
// structs, as Connect's ConnectSchema.validateValue. A nil schema accepts
// anything.
func Validate(schema *Schema, value any) error {
	return validate("", schema, value)
}

func validate(path string, s *Schema, v any) error {
	if s == nil {
		return nil
	}
	if v == nil {
		if s.Optional || s.Default != nil {
			return nil
		}
		return &DataError{Field: path, Msg: "Invalid value: null used for required field: \"" + fieldName(path) + "\", schema type: " + upper(s.Type)}
	}
	if l, ok := logicalTypes[s.Name]; ok && l.typ == s.Type {
		if !l.accepts(v) {
			return mismatch(path, s, v)
		}
		return nil
	}
	ok := false
	switch s.Type {
	case TypeInt8:
		_, ok = v.(int8)
	case TypeInt16:
		_, ok = v.(int16)
	case TypeInt32:
		_, ok = v.(int32)
	case TypeInt64:
		_, ok = v.(int64)
	case TypeFloat32:
		_, ok = v.(float32)
	case TypeFloat64:
		_, ok = v.(float64)
	case TypeBoolean:
		_, ok = v.(bool)
	case TypeString:
		_, ok = v.(string)
	case TypeBytes:
		_, ok = v.([]byte)
	case TypeArray:
		arr, isArr := v.([]any)
		if !isArr {
			break
		}
		for i, e := range arr {
			if err := validate(fmt.Sprintf("%s[%d]", path, i), s.ValueSchema, e); err != nil {
				return err
			}
		}
		return nil
	case TypeMap:
		switch m := v.(type) {
		case map[any]any:
			for k, e := range m {
				if err := validate(path+"<key>", s.KeySchema, k); err != nil {
					return err
				}
				if err := validate(fmt.Sprintf("%s[%v]", path, k), s.ValueSchema, e); err != nil {
					return err
				}
			}
			return nil
		case map[string]any:
			if s.KeySchema == nil || s.KeySchema.Type != TypeString {
				break
			}
			for k, e := range m {
				if err := validate(path+"."+k, s.ValueSchema, e); err != nil {
					return err
				}
			}
			return nil
		}
	case TypeStruct:
		st, isStruct := v.(*Struct)
		if !isStruct {
			break
		}
		if !Equal(st.Schema(), s) {
			return &DataError{Field: path, Msg: "Struct schemas do not match."}
		}
		return st.validate(path)
	}
	if !ok {
		return mismatch(path, s, v)
	}
	return nil
}

func mismatch(path string, s *Schema, v any) error {
	return &DataError{Field: path, Msg: fmt.Sprintf("Invalid Go object for schema %s: %T", s, v)}
}

func fieldName(path string) string {
	if path == "" {
		return "null"
	}
	return path
}

func upper(t Type) string { return string(bytes.ToUpper([]byte(t))) }

// ValuesEqual compares two Connect values deeply: byte slices by content,
// structs by schema and values, times by instant.
func ValuesEqual(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case *Struct:
		y, ok := b.(*Struct)
		if !ok || x == nil || y == nil {
			return ok && x == y
		}
		if !Equal(x.schema, y.schema) {
			return false
		}
		for i := range x.values {
			if !ValuesEqual(x.values[i], y.values[i]) {
				return false
			}
		}
		return true
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case Decimal:
		y, ok := b.(Decimal)
		return ok && x.Equal(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !ValuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, found := y[k]
			if !found || !ValuesEqual(v, w) {
				return false
			}
		}
		return true
	case map[any]any:
		y, ok := b.(map[any]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, found := y[k]
			if !found || !ValuesEqual(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
