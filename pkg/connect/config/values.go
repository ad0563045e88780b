package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Values is a parsed, valid configuration, Kafka's AbstractConfig. It is
// immutable and safe for concurrent use.
//
// The typed getters panic when name is not declared in the Def or is
// declared with another Type: both are programming errors in the connector,
// not user errors, which Parse has already reported. A null value (a key
// whose default is nil and that was not set) reads as the zero value; use
// Get to tell null apart.
type Values struct {
	def       *Def
	parsed    map[string]any
	originals map[string]string
}

// Get returns the parsed value of name in its Type's Go representation, or
// nil for null. It panics if name is not declared.
func (v *Values) Get(name string) any {
	if _, ok := v.def.index[name]; !ok {
		panic(fmt.Sprintf("config: unknown configuration %q", name))
	}
	val := v.parsed[name]
	if l, ok := val.([]string); ok {
		return slices.Clone(l)
	}
	return val
}

// String returns a String key's value.
func (v *Values) String(name string) string {
	s, _ := v.typed(name, String).(string)
	return s
}

// Int returns an Int key's value.
func (v *Values) Int(name string) int {
	n, _ := v.typed(name, Int).(int)
	return n
}

// Long returns a Long key's value.
func (v *Values) Long(name string) int64 {
	n, _ := v.typed(name, Long).(int64)
	return n
}

// Bool returns a Boolean key's value.
func (v *Values) Bool(name string) bool {
	b, _ := v.typed(name, Boolean).(bool)
	return b
}

// Double returns a Double key's value.
func (v *Values) Double(name string) float64 {
	f, _ := v.typed(name, Double).(float64)
	return f
}

// List returns a copy of a List key's items; nil for null.
func (v *Values) List(name string) []string {
	l, _ := v.typed(name, List).([]string)
	return slices.Clone(l)
}

// Class returns a Class key's class or plugin name.
func (v *Values) Class(name string) string {
	s, _ := v.typed(name, Class).(string)
	return s
}

// Password returns a Password key's value. Call Value on it for the secret.
func (v *Values) Password(name string) Secret {
	p, _ := v.typed(name, Password).(Secret)
	return p
}

// typed returns name's value after checking it is declared with type t.
func (v *Values) typed(name string, t Type) any {
	i, ok := v.def.index[name]
	if !ok {
		panic(fmt.Sprintf("config: unknown configuration %q", name))
	}
	if got := v.def.keys[i].Type; got != t {
		panic(fmt.Sprintf("config: configuration %q is of type %v, not %v", name, got, t))
	}
	return v.parsed[name]
}

// Given reports whether the properties set name (to anything, blank
// included), Kafka's originals().containsKey: a rule tells a default from
// a value the user wrote with it.
func (v *Values) Given(name string) bool {
	_, ok := v.originals[name]
	return ok
}

// Originals returns a copy of the properties as given to Parse, undeclared
// ones included, Kafka's AbstractConfig.originalsStrings.
func (v *Values) Originals() map[string]string {
	return maps.Clone(v.originals)
}

// WithPrefix returns the original properties whose names start with prefix,
// with prefix removed, Kafka's originalsWithPrefix(prefix). A property named
// exactly prefix is left out, as in Kafka. For example, with prefix
// "transforms.mask." the property "transforms.mask.fields" becomes "fields".
func (v *Values) WithPrefix(prefix string) map[string]string {
	out := make(map[string]string)
	for k, val := range v.originals {
		if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" {
			out[rest] = val
		}
	}
	return out
}
