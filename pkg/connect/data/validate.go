package data

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"time"
)

// Error reports a value that does not fit its schema (Connect's DataException).
type Error struct {
	// Field is the dotted path to the offending value, empty at the top level.
	Field string
	Msg   string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return fmt.Sprintf("%s (field %s)", e.Msg, e.Field)
}

// Validate checks that value fits schema, recursing into arrays, maps and
// structs, as Connect's ConnectSchema.validateValue. A nil schema accepts
// anything.
func Validate(schema *Schema, value any) error {
	if err := validate(schema, value); err != nil {
		return err.dataError()
	}
	return nil
}

// stepKind says how a pathStep is rendered after the steps above it.
type stepKind uint8

const (
	stepField     stepKind = iota // "name" at the top, ".name" below
	stepIndex                     // "[3]", an array element
	stepMapKey                    // "<key>", a map key
	stepMapValue                  // "[k]", a value of a map[any]any
	stepStringKey                 // ".k", a value of a map[string]any
)

// pathStep is one step of the path to an invalid value.
type pathStep struct {
	kind  stepKind
	index int
	name  string // the field name or map[string]any key
	key   any    // the map[any]any key
}

// invalidValue is validate's error before it becomes a *Error. The path
// to the value is collected innermost step first while the error returns up
// the recursion, and rendered once at the top, so that validating a good
// value builds no path at all.
type invalidValue struct {
	steps  []pathStep // innermost first
	reason invalidReason
	schema *Schema
	value  any
}

type invalidReason uint8

const (
	reasonNull          invalidReason = iota // null for a required schema
	reasonWrongType                          // a Go type the schema does not take
	reasonStructSchemas                      // a struct of another schema
)

// at records that the invalid value lies under step.
func (e *invalidValue) at(step pathStep) *invalidValue {
	e.steps = append(e.steps, step)
	return e
}

// path renders the dotted path, empty at the top level.
func (e *invalidValue) path() string {
	var b []byte
	for i := len(e.steps) - 1; i >= 0; i-- {
		switch st := e.steps[i]; st.kind {
		case stepField:
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = append(b, st.name...)
		case stepIndex:
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(st.index), 10)
			b = append(b, ']')
		case stepMapKey:
			b = append(b, "<key>"...)
		case stepMapValue:
			b = fmt.Appendf(b, "[%v]", st.key)
		case stepStringKey:
			b = append(b, '.')
			b = append(b, st.name...)
		}
	}
	return string(b)
}

// dataError builds the *Error callers see.
func (e *invalidValue) dataError() *Error {
	p := e.path()
	switch e.reason {
	case reasonNull:
		return &Error{Field: p, Msg: "Invalid value: null used for required field: \"" + fieldName(p) + "\", schema type: " + upper(e.schema.Type)}
	case reasonStructSchemas:
		return &Error{Field: p, Msg: "Struct schemas do not match."}
	}
	return &Error{Field: p, Msg: wrongTypeMsg(e.schema, e.value)}
}

func validate(s *Schema, v any) *invalidValue {
	if s == nil {
		return nil
	}
	if st, isStruct := v.(*Struct); isStruct && st == nil {
		// A nil *Struct is a null struct, not a value to look into.
		v = nil
	}
	if v == nil {
		if s.Optional || s.Default != nil {
			return nil
		}
		return &invalidValue{reason: reasonNull, schema: s}
	}
	if s.Name != "" { // most schemas have no name: skip the map lookup
		if l, ok := logicalTypes[s.Name]; ok && l.typ == s.Type {
			if !l.accepts(v) {
				return wrongType(s, v)
			}
			return nil
		}
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
			if err := validate(s.ValueSchema, e); err != nil {
				return err.at(pathStep{kind: stepIndex, index: i})
			}
		}
		return nil
	case TypeMap:
		switch m := v.(type) {
		case map[any]any:
			for k, e := range m {
				if err := validate(s.KeySchema, k); err != nil {
					return err.at(pathStep{kind: stepMapKey})
				}
				if err := validate(s.ValueSchema, e); err != nil {
					return err.at(pathStep{kind: stepMapValue, key: k})
				}
			}
			return nil
		case map[string]any:
			if s.KeySchema == nil || s.KeySchema.Type != TypeString {
				break
			}
			for k, e := range m {
				if err := validate(s.ValueSchema, e); err != nil {
					return err.at(pathStep{kind: stepStringKey, name: k})
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
			return &invalidValue{reason: reasonStructSchemas, schema: s, value: v}
		}
		return st.validate()
	}
	if !ok {
		return wrongType(s, v)
	}
	return nil
}

func wrongType(s *Schema, v any) *invalidValue {
	return &invalidValue{reason: reasonWrongType, schema: s, value: v}
}

func wrongTypeMsg(s *Schema, v any) string {
	return fmt.Sprintf("Invalid Go object for schema %s: %T", s, v)
}

// mismatch is the top-level error for a value of the wrong Go type.
func mismatch(s *Schema, v any) error {
	return &Error{Msg: wrongTypeMsg(s, v)}
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
