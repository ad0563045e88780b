package data

import (
	"fmt"
	"strings"
)

// Struct is a value of a STRUCT schema, as Connect's Struct. Put validates
// each value against its field's schema; Validate checks that every required
// field is set. A Struct is not safe for concurrent modification.
type Struct struct {
	schema *Schema
	values []any
}

// NewStruct returns an empty struct of schema, which must be a STRUCT schema.
func NewStruct(schema *Schema) *Struct {
	if schema == nil || schema.Type != TypeStruct {
		panic(fmt.Sprintf("data.NewStruct: not a struct schema: %v", schema))
	}
	// The struct and its values in one allocation for the usual sizes
	// (a record's key, value, envelope and source block are each one).
	switch n := len(schema.Fields); {
	case n <= 4:
		c := &struct4{}
		c.s = Struct{schema: schema, values: c.v[:n:n]}
		return &c.s
	case n <= 8:
		c := &struct8{}
		c.s = Struct{schema: schema, values: c.v[:n:n]}
		return &c.s
	case n <= 16:
		c := &struct16{}
		c.s = Struct{schema: schema, values: c.v[:n:n]}
		return &c.s
	default:
		return &Struct{schema: schema, values: make([]any, n)}
	}
}

type (
	struct4 struct {
		s Struct
		v [4]any
	}
	struct8 struct {
		s Struct
		v [8]any
	}
	struct16 struct {
		s Struct
		v [16]any
	}
)

// Schema returns the struct's schema.
func (s *Struct) Schema() *Schema { return s.schema }

// Put sets a field's value after validating it. It returns the struct so
// that calls can be chained with Must.
func (s *Struct) Put(field string, value any) error {
	f := s.schema.Field(field)
	if f == nil {
		return &Error{Field: field, Msg: field + " is not a valid field name"}
	}
	if err := validate(f.Schema, value); err != nil {
		return err.at(pathStep{kind: stepField, name: field}).dataError()
	}
	s.values[f.Index] = value
	return nil
}

// Set is Put that panics on error, for building structs whose values are
// known to fit (tests, generators).
func (s *Struct) Set(field string, value any) *Struct {
	if err := s.Put(field, value); err != nil {
		panic(err)
	}
	return s
}

// Get returns a field's value, or the field's default when it is unset; nil
// for an unknown field.
func (s *Struct) Get(field string) any {
	f := s.schema.Field(field)
	if f == nil {
		return nil
	}
	if v := s.values[f.Index]; v != nil {
		return v
	}
	return f.Schema.Default
}

// GetWithoutDefault returns a field's value as set, without falling back to
// its default.
func (s *Struct) GetWithoutDefault(field string) any {
	f := s.schema.Field(field)
	if f == nil {
		return nil
	}
	return s.values[f.Index]
}

// Clone returns a shallow copy: a struct of the same schema with the same
// field values (nested structs, slices and maps are shared, not copied).
// Setting a field of the copy leaves the original as it is, which makes a
// struct filled once a cheap template for many.
func (s *Struct) Clone() *Struct {
	c := NewStruct(s.schema)
	copy(c.values, s.values)
	return c
}

// At returns the value of the field with index i (Schema().Fields[i]) as
// set, without its default: for callers that walk the schema's fields,
// instead of looking each one up by name.
func (s *Struct) At(i int) any { return s.values[i] }

// SetAtUnchecked sets the field with index i to v without validating it,
// for decoders whose values fit the field's schema by construction (a
// compiled Avro schema): Put validates a nested struct's whole subtree,
// which a decoder building a deep (recursive) value bottom up would repeat
// at every level.
func (s *Struct) SetAtUnchecked(i int, v any) { s.values[i] = v }

// Validate checks that every required field without a default is set and
// that nested structs are valid.
func (s *Struct) Validate() error {
	if err := s.validate(); err != nil {
		return err.dataError()
	}
	return nil
}

func (s *Struct) validate() *invalidValue {
	for _, f := range s.schema.Fields {
		if err := validate(f.Schema, s.values[f.Index]); err != nil {
			return err.at(pathStep{kind: stepField, name: f.Name})
		}
	}
	return nil
}

// String renders the struct as Connect's Struct.toString does:
// Struct{a=1,b=x}.
func (s *Struct) String() string {
	var b strings.Builder
	b.WriteString("Struct{")
	first := true
	for _, f := range s.schema.Fields {
		v := s.values[f.Index]
		if v == nil {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%s=%v", f.Name, v)
	}
	b.WriteByte('}')
	return b.String()
}
