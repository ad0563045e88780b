package config

import (
	"testing"
)

func allTypesDef() *Def {
	return NewDef().
		Define(Key{Name: "b", Type: Boolean, Default: false}).
		Define(Key{Name: "s", Type: String, Default: "x"}).
		Define(Key{Name: "i", Type: Int, Default: 1}).
		Define(Key{Name: "l", Type: Long, Default: int64(2)}).
		Define(Key{Name: "d", Type: Double, Default: 0.5}).
		Define(Key{Name: "list", Type: List, Default: ""}).
		Define(Key{Name: "c", Type: Class, Default: NoDefault}).
		Define(Key{Name: "p", Type: Password, Default: nil}).
		Define(Key{Name: "null.string", Type: String, Default: nil})
}

func TestGetters(t *testing.T) {
	vals, err := allTypesDef().Parse(map[string]string{
		"b": "TRUE", "s": " hi ", "i": "-3", "l": "9000000000", "d": "2.5",
		"list": "x, y", "c": "FileStreamSource", "p": "hunter2",
	})
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, vals.Bool("b"), true)
	requireEqual(t, vals.String("s"), "hi")
	requireEqual(t, vals.Int("i"), -3)
	requireEqual(t, vals.Long("l"), int64(9000000000))
	requireEqual(t, vals.Double("d"), 2.5)
	requireEqual(t, vals.List("list"), []string{"x", "y"})
	requireEqual(t, vals.Class("c"), "FileStreamSource")
	requireEqual(t, vals.Password("p").Value(), "hunter2")
	requireEqual(t, vals.Password("p").String(), "[hidden]")
	requireEqual(t, vals.String("null.string"), "")
	requireEqual(t, vals.Get("null.string"), nil)

	// Returned lists are copies.
	vals.List("list")[0] = "changed"
	requireEqual(t, vals.List("list"), []string{"x", "y"})
}

func TestGetterPanics(t *testing.T) {
	vals, err := allTypesDef().Parse(map[string]string{"c": "C"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		get  func()
		want string
	}{
		{name: "undeclared get", get: func() { vals.Get("nope") }, want: `unknown configuration "nope"`},
		{name: "undeclared typed", get: func() { vals.Int("nope") }, want: `unknown configuration "nope"`},
		{name: "int as string", get: func() { vals.String("i") }, want: `configuration "i" is of type INT, not STRING`},
		{name: "class as string", get: func() { vals.String("c") }, want: "is of type CLASS, not STRING"},
		{name: "long as int", get: func() { vals.Int("l") }, want: "is of type LONG, not INT"},
		{name: "string as password", get: func() { vals.Password("s") }, want: "is of type STRING, not PASSWORD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requirePanic(t, tt.want, tt.get)
		})
	}
}

func TestOriginalsAndWithPrefix(t *testing.T) {
	props := map[string]string{
		"c":                       "C",
		"transforms":              "mask",
		"transforms.mask.type":    "MaskField",
		"transforms.mask.fields":  " ssn ",
		"transforms.mask.":        "empty after prefix",
		"transforms.masker.type":  "Other",
		"producer.override.acks":  "all",
		"s":                       "declared",
		"i":                       "3",
		"transforms.mask.nested.": "x",
	}
	vals, err := allTypesDef().Parse(props)
	if err != nil {
		t.Fatal(err)
	}
	orig := vals.Originals()
	requireEqual(t, orig, props)
	orig["c"] = "changed"
	requireEqual(t, vals.Originals()["c"], "C")

	tests := []struct {
		name   string
		prefix string
		want   map[string]string
	}{
		{name: "transform", prefix: "transforms.mask.", want: map[string]string{
			"type": "MaskField", "fields": " ssn ", "nested.": "x",
		}},
		{name: "producer override", prefix: "producer.override.", want: map[string]string{"acks": "all"}},
		{name: "no match", prefix: "consumer.", want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireEqual(t, vals.WithPrefix(tt.prefix), tt.want)
		})
	}
}
