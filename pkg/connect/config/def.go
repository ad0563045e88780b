// Package config declares connector configuration the way Kafka's ConfigDef
// does, so that Kafka Connect users get the same behaviour from Sluice.
//
// One Def drives parsing (Def.Parse), validation that reports every problem
// at once (Def.Validate), and the Kafka Connect REST shapes served by
// GET /connector-plugins/{plugin}/config (Def.KeyInfos) and
// PUT /connector-plugins/{plugin}/config/validate (Def.Infos). Types, error
// messages, validators and the JSON all follow Kafka's so that existing
// tooling and UIs work unchanged.
//
//	def := config.NewDef().
//		Define(config.Key{Name: "file", Type: config.String, Default: config.NoDefault,
//			Importance: config.High, Doc: "Source filename."}).
//		Define(config.Key{Name: "batch.size", Type: config.Int, Default: 2000,
//			Validator: config.AtLeast(1), Importance: config.Low, Doc: "Lines per poll."})
//	vals, err := def.Parse(props) // err is a *ValidationError naming every bad key
package config

import (
	"fmt"
	"slices"
)

// NoDefault as a Key's Default marks the key as required: Parse reports it
// when absent. It is Kafka's ConfigDef.NO_DEFAULT_VALUE.
var NoDefault any = noDefault{}

type noDefault struct{}

// Key declares one configuration property, Kafka's ConfigDef.ConfigKey.
type Key struct {
	// Name is the property name exactly as Kafka Connect users write it,
	// such as "tasks.max".
	Name string
	// Type is how the value is parsed; see Type for the Go representation.
	Type Type
	// Default is used when the property is absent. NoDefault makes the key
	// required; nil (the zero value) makes the default null. Otherwise it is
	// either a string, parsed like a user's value, or a value of the type's
	// Go representation (an int for Int, a []string for List, ...). Keys
	// returned by a Def hold the parsed default.
	Default any
	// Importance, Doc, Group, OrderInGroup, Width and DisplayName describe the
	// key in docs and in the Connect REST API. An empty Group means none
	// (null in REST); an empty DisplayName becomes Name, as in Kafka's short
	// define methods.
	Importance   Importance
	Doc          string
	Group        string
	OrderInGroup int
	Width        Width
	DisplayName  string
	// Dependents names keys whose valid values or visibility depend on this
	// one. Validate reports a dependent that is not declared.
	Dependents []string
	// Validator, if set, checks the parsed value, the default included.
	Validator Validator
	// Internal keys are parsed and validated but not listed by Keys or
	// KeyInfos, Kafka's internalConfig.
	Internal bool
}

// Required reports whether the key has no default, Kafka's !hasDefault().
func (k Key) Required() bool {
	_, ok := k.Default.(noDefault)
	return ok
}

// ValidValues describes the values the key accepts, from its validator's
// String method (Kafka's "Valid Values" doc column), or "" when the key has
// no validator or the validator has no description.
func (k Key) ValidValues() string {
	if k.Validator == nil {
		return ""
	}
	return describe(k.Validator)
}

// Def is an ordered set of Keys, Kafka's ConfigDef. It keeps declaration
// order, which is the order of Keys, Validate, KeyInfos and Infos.
//
// The zero Def is empty and ready to use. Define mutates the Def and must not
// run concurrently with anything else on it; once all keys are defined, the
// read methods (Parse, Validate, Keys, ...) are safe for concurrent use.
type Def struct {
	keys   []Key
	index  map[string]int
	groups []string
	rules  []Rule
}

// Rule is a check across keys, for what one key's Validator cannot see
// (Kafka's Connector.validate): "one of store.url and local.dir is
// required", "a and its alias b disagree". It gets the parsed values once
// every key has been parsed and validated on its own; a key that did not
// parse reads as null (Get returns nil, the typed getters the zero value),
// so a rule reports only its own problems. It returns one Problem per key
// it blames, in the order they should be reported; several keys may share
// one message. A rule reads only keys of the Def it is added to.
type Rule func(v *Values) []Problem

// NewDef returns an empty Def.
func NewDef() *Def { return &Def{} }

// Define adds k and returns d so calls chain. It parses k.Default into the
// key's Go representation and runs k.Validator on it (null included), as
// Kafka's ConfigKey constructor does.
//
// Define panics, like Kafka's define throws, on a programming error in the
// declaration: an empty or duplicate name, an unknown Type, Importance or
// Width, or a default that does not parse or that its validator rejects.
// Declarations are fixed at compile time, so these fail in any test that
// builds the Def.
func (d *Def) Define(k Key) *Def {
	if k.Name == "" {
		panic("config: Define called with an empty key name")
	}
	if !k.Type.valid() {
		panic(fmt.Sprintf("config: configuration %s has unknown type %v", k.Name, k.Type))
	}
	if !k.Importance.valid() {
		panic(fmt.Sprintf("config: configuration %s has unknown importance %v", k.Name, k.Importance))
	}
	if !k.Width.valid() {
		panic(fmt.Sprintf("config: configuration %s has unknown width %v", k.Name, k.Width))
	}
	if !k.Required() {
		parsed, err := parseDefault(k.Type, k.Default)
		if err != nil {
			panic(fmt.Sprintf("config: invalid default for configuration %s: %s",
				k.Name, InvalidValue(k.Name, k.Default, err.Error())))
		}
		k.Default = parsed
		if k.Validator != nil {
			if err := k.Validator.Validate(k.Name, parsed); err != nil {
				panic(fmt.Sprintf("config: invalid default for configuration %s: %s",
					k.Name, validatorMessage(k.Name, parsed, err)))
			}
		}
	}
	if k.DisplayName == "" {
		k.DisplayName = k.Name
	}
	k.Dependents = append([]string{}, k.Dependents...)
	d.add(k)
	return d
}

// Rule adds a cross-key rule and returns d so calls chain. Parse,
// Validate and Infos report its problems with the keys' own, and Merge
// keeps it.
func (d *Def) Rule(r Rule) *Def {
	d.rules = append(d.rules, r)
	return d
}

// add appends an already checked key.
func (d *Def) add(k Key) {
	if _, dup := d.index[k.Name]; dup {
		// Kafka's message for the same mistake.
		panic("config: Configuration " + k.Name + " is defined twice.")
	}
	if d.index == nil {
		d.index = make(map[string]int)
	}
	d.index[k.Name] = len(d.keys)
	d.keys = append(d.keys, k)
	if k.Group != "" && !slices.Contains(d.groups, k.Group) {
		d.groups = append(d.groups, k.Group)
	}
}

// Merge returns a new Def with d's keys followed by other's, for example a
// connector's own keys after the common ones, and both Defs' rules. Neither
// d nor other changes. It panics if both declare the same name, as defining
// it twice would.
func (d *Def) Merge(other *Def) *Def {
	merged := NewDef()
	for _, src := range []*Def{d, other} {
		for _, k := range src.keys {
			k.Dependents = slices.Clone(k.Dependents)
			merged.add(k)
		}
		merged.rules = append(merged.rules, src.rules...)
	}
	return merged
}

// Keys returns the keys that are not Internal, in declaration order. The
// slice is a copy.
func (d *Def) Keys() []Key {
	keys := make([]Key, 0, len(d.keys))
	for _, k := range d.keys {
		if !k.Internal {
			keys = append(keys, cloneKey(k))
		}
	}
	return keys
}

// Key returns the key called name, Internal ones included.
func (d *Def) Key(name string) (Key, bool) {
	i, ok := d.index[name]
	if !ok {
		return Key{}, false
	}
	return cloneKey(d.keys[i]), true
}

// Groups returns the keys' groups in the order they were first seen,
// Kafka's ConfigDef.groups.
func (d *Def) Groups() []string {
	return append([]string{}, d.groups...)
}

// undefinedDependents returns names listed as dependents but not declared,
// in the order they are first referred to.
func (d *Def) undefinedDependents() []string {
	var undefined []string
	for _, k := range d.keys {
		for _, dep := range k.Dependents {
			if _, ok := d.index[dep]; !ok && !slices.Contains(undefined, dep) {
				undefined = append(undefined, dep)
			}
		}
	}
	return undefined
}

func cloneKey(k Key) Key {
	k.Dependents = slices.Clone(k.Dependents)
	if l, ok := k.Default.([]string); ok {
		k.Default = slices.Clone(l)
	}
	return k
}
