package config

import (
	"testing"
)

func TestDefinePanics(t *testing.T) {
	tests := []struct {
		name   string
		define func()
		want   string
	}{
		{name: "duplicate", want: "Configuration topic is defined twice.", define: func() {
			NewDef().
				Define(Key{Name: "topic", Type: String}).
				Define(Key{Name: "topic", Type: String})
		}},
		{name: "empty name", want: "empty key name", define: func() {
			NewDef().Define(Key{Type: String})
		}},
		{name: "unknown type", want: "unknown type Type(99)", define: func() {
			NewDef().Define(Key{Name: "k", Type: 99})
		}},
		{name: "unknown importance", want: "unknown importance", define: func() {
			NewDef().Define(Key{Name: "k", Type: String, Importance: 7})
		}},
		{name: "unknown width", want: "unknown width", define: func() {
			NewDef().Define(Key{Name: "k", Type: String, Width: -1})
		}},
		{name: "default does not parse", define: func() {
			NewDef().Define(Key{Name: "k", Type: Int, Default: "ten"})
		}, want: "invalid default for configuration k: Invalid value ten for configuration k: Not a number of type INT"},
		{name: "default of wrong Go type", define: func() {
			NewDef().Define(Key{Name: "k", Type: Int, Default: 1.5})
		}, want: "Expected a value of type INT, but it was a float64"},
		{name: "int default out of range", define: func() {
			NewDef().Define(Key{Name: "k", Type: Int, Default: 1 << 40})
		}, want: "Not a number of type INT"},
		{name: "default rejected by validator", define: func() {
			NewDef().Define(Key{Name: "k", Type: Int, Default: 0, Validator: AtLeast(1)})
		}, want: "Invalid value 0 for configuration k: Value must be at least 1"},
		{name: "null default rejected by range, as in Kafka", define: func() {
			NewDef().Define(Key{Name: "k", Type: Int, Default: nil, Validator: AtLeast(1)})
		}, want: "Value must be non-null"},
		{name: "merge duplicate", want: "Configuration a is defined twice.", define: func() {
			NewDef().Define(Key{Name: "a", Type: String}).Merge(NewDef().Define(Key{Name: "a", Type: Int}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requirePanic(t, tt.want, tt.define)
		})
	}
}

func TestRequiredKeyValidatorNotRunAtDefine(t *testing.T) {
	// A required key has no default to check, so a Range is fine.
	def := NewDef().Define(Key{Name: "k", Type: Int, Default: NoDefault, Validator: AtLeast(1)})
	k, _ := def.Key("k")
	requireEqual(t, k.Required(), true)
}

func TestDeclarationOrderKept(t *testing.T) {
	names := []string{"zeta", "alpha", "mid", "beta", "omega", "a.b", "a"}
	def := NewDef()
	for _, n := range names {
		def.Define(Key{Name: n, Type: String})
	}
	var gotKeys, gotInfos, gotResults []string
	for _, k := range def.Keys() {
		gotKeys = append(gotKeys, k.Name)
	}
	for _, k := range def.KeyInfos() {
		gotInfos = append(gotInfos, k.Name)
	}
	for _, r := range def.Validate(nil) {
		gotResults = append(gotResults, r.Name)
	}
	requireEqual(t, gotKeys, names)
	requireEqual(t, gotInfos, names)
	requireEqual(t, gotResults, names)
}

func TestGroups(t *testing.T) {
	def := NewDef().
		Define(Key{Name: "a", Type: String, Group: "Connection"}).
		Define(Key{Name: "b", Type: String}).
		Define(Key{Name: "c", Type: String, Group: "Common"}).
		Define(Key{Name: "d", Type: String, Group: "Connection"})
	requireEqual(t, def.Groups(), []string{"Connection", "Common"})
	requireEqual(t, NewDef().Groups(), []string{})
}

func TestKeyLookupAndNormalisation(t *testing.T) {
	def := NewDef().
		Define(Key{Name: "port", Type: Int, Default: "8083", Dependents: nil}).
		Define(Key{Name: "secret.internal", Type: String, Internal: true})

	k, ok := def.Key("port")
	if !ok {
		t.Fatal("port not found")
	}
	requireEqual(t, k.Default, any(8083))
	requireEqual(t, k.DisplayName, "port")
	requireEqual(t, k.Dependents, []string{})

	if _, ok := def.Key("secret.internal"); !ok {
		t.Fatal("Key should find internal keys")
	}
	if _, ok := def.Key("missing"); ok {
		t.Fatal("found an undeclared key")
	}
	requireEqual(t, len(def.Keys()), 1)
	requireEqual(t, len(def.KeyInfos()), 1)
	requireEqual(t, len(def.Validate(nil)), 2)
}

func TestKeysAreCopies(t *testing.T) {
	def := NewDef().Define(Key{Name: "l", Type: List, Default: []string{"a"}, Dependents: []string{"x"}}).
		Define(Key{Name: "x", Type: String})
	keys := def.Keys()
	keys[0].Dependents[0] = "changed"
	keys[0].Default.([]string)[0] = "changed"
	k, _ := def.Key("l")
	requireEqual(t, k.Dependents, []string{"x"})
	requireEqual(t, k.Default, any([]string{"a"}))
}

func TestMerge(t *testing.T) {
	common := NewDef().
		Define(Key{Name: "name", Type: String, Default: NoDefault, Group: "Common"}).
		Define(Key{Name: "tasks.max", Type: Int, Default: 1, Group: "Common"})
	own := NewDef().
		Define(Key{Name: "file", Type: String, Default: NoDefault, Group: "File"}).
		Define(Key{Name: "batch.size", Type: Int, Default: 2000, Group: "Common"})

	merged := common.Merge(own)
	var names []string
	for _, k := range merged.Keys() {
		names = append(names, k.Name)
	}
	requireEqual(t, names, []string{"name", "tasks.max", "file", "batch.size"})
	requireEqual(t, merged.Groups(), []string{"Common", "File"})
	requireEqual(t, len(common.Keys()), 2)
	requireEqual(t, len(own.Keys()), 2)

	vals, err := merged.Parse(map[string]string{"name": "n", "file": "/tmp/f"})
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, vals.Int("batch.size"), 2000)
}
