package config

import (
	"testing"
)

// fileSourceDef is shaped like Kafka's FileStreamSourceConnector config.
func fileSourceDef() *Def {
	return NewDef().
		Define(Key{Name: "file", Type: String, Default: NoDefault, Importance: High,
			Doc: "Source filename.", Validator: NonEmptyString()}).
		Define(Key{Name: "topic", Type: List, Default: NoDefault, Importance: High,
			Doc: "The topic to publish data to"}).
		Define(Key{Name: "tasks.max", Type: Int, Default: 1, Importance: High,
			Validator: AtLeast(1), Doc: "Maximum number of tasks."}).
		Define(Key{Name: "batch.size", Type: Int, Default: 2000, Importance: Low,
			Doc: "The maximum number of records the source task can read from the file each time it is polled"}).
		Define(Key{Name: "errors.tolerance", Type: String, Default: "none",
			Validator: CaseInsensitiveValidString("none", "all"), Importance: Medium}).
		Define(Key{Name: "db.password", Type: Password, Default: nil, Importance: High}).
		Define(Key{Name: "offset.prefix", Type: String, Default: nil, Importance: Low})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		want  []Result
	}{
		{
			name: "all valid, defaults filled in",
			props: map[string]string{
				"file": " /tmp/in.txt ", "topic": "a, b", "db.password": "hunter2", "unknown": "ignored",
			},
			want: []Result{
				{Name: "file", Value: ptr("/tmp/in.txt"), Errors: []string{}, Recommended: []string{}, Visible: true},
				{Name: "topic", Value: ptr("a,b"), Errors: []string{}, Recommended: []string{}, Visible: true},
				{Name: "tasks.max", Value: ptr("1"), Errors: []string{}, Recommended: []string{}, Visible: true},
				{Name: "batch.size", Value: ptr("2000"), Errors: []string{}, Recommended: []string{}, Visible: true},
				{Name: "errors.tolerance", Value: ptr("none"), Errors: []string{}, Recommended: []string{}, Visible: true},
				{Name: "db.password", Value: ptr("[hidden]"), Errors: []string{}, Recommended: []string{}, Visible: true},
				{Name: "offset.prefix", Value: nil, Errors: []string{}, Recommended: []string{}, Visible: true},
			},
		},
		{
			name: "every bad key reported",
			props: map[string]string{
				"topic": "t", "tasks.max": "x", "batch.size": "1.5", "errors.tolerance": "some",
			},
			want: []Result{
				{Name: "file", Value: nil, Errors: []string{`Missing required configuration "file" which has no default value.`},
					Recommended: []string{}, Visible: true},
				{Name: "topic", Value: ptr("t"), Errors: []string{}, Recommended: []string{}, Visible: true},
				// As in Kafka, the validator also sees the null left by the
				// failed parse.
				{Name: "tasks.max", Value: nil, Errors: []string{
					"Invalid value x for configuration tasks.max: Not a number of type INT",
					"Invalid value null for configuration tasks.max: Value must be non-null",
				}, Recommended: []string{}, Visible: true},
				{Name: "batch.size", Value: nil, Errors: []string{
					"Invalid value 1.5 for configuration batch.size: Not a number of type INT",
				}, Recommended: []string{}, Visible: true},
				{Name: "errors.tolerance", Value: ptr("some"), Errors: []string{
					"Invalid value some for configuration errors.tolerance: String must be one of (case insensitive): NONE, ALL",
				}, Recommended: []string{}, Visible: true},
				{Name: "db.password", Value: nil, Errors: []string{}, Recommended: []string{}, Visible: true},
				{Name: "offset.prefix", Value: nil, Errors: []string{}, Recommended: []string{}, Visible: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fileSourceDef().Validate(tt.props)
			requireEqual(t, len(got), len(tt.want))
			for i := range got {
				requireEqual(t, got[i], tt.want[i])
			}
		})
	}
}

func TestValidateUndefinedDependent(t *testing.T) {
	def := NewDef().Define(Key{Name: "mode", Type: String, Dependents: []string{"mode.detail"}})
	got := def.Validate(nil)
	requireEqual(t, got, []Result{
		{Name: "mode", Errors: []string{}, Recommended: []string{}, Visible: true},
		{Name: "mode.detail", Errors: []string{"mode.detail is referred in the dependents, but not defined."},
			Recommended: []string{}, Visible: false},
	})
	_, err := def.Parse(nil)
	requireEqual(t, problemMessages(t, err), []string{"mode.detail is referred in the dependents, but not defined."})
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		props     map[string]string
		wantKeys  []string
		wantError string
	}{
		{
			name:     "kafka example",
			props:    map[string]string{"topic": "t", "tasks.max": "5", "batch.size": "x"},
			wantKeys: []string{"file", "batch.size"},
			wantError: "Connector configuration is invalid and contains the following 2 error(s):\n" +
				"Missing required configuration \"file\" which has no default value.\n" +
				"Invalid value x for configuration batch.size: Not a number of type INT\n" +
				"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
		},
		{
			name:     "empty file rejected by validator",
			props:    map[string]string{"file": "  ", "topic": "t", "tasks.max": "0"},
			wantKeys: []string{"file", "tasks.max"},
			wantError: "Connector configuration is invalid and contains the following 2 error(s):\n" +
				"Invalid value  for configuration file: String must be non-empty\n" +
				"Invalid value 0 for configuration tasks.max: Value must be at least 1\n" +
				"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, err := fileSourceDef().Parse(tt.props)
			if vals != nil {
				t.Fatalf("got Values %v with an error", vals)
			}
			if err == nil {
				t.Fatal("no error")
			}
			ve := err.(*ValidationError)
			var keys []string
			for _, p := range ve.Problems {
				keys = append(keys, p.Key)
			}
			requireEqual(t, keys, tt.wantKeys)
			requireEqual(t, err.Error(), tt.wantError)
		})
	}
}

func TestParseReturnsUntypedNilError(t *testing.T) {
	_, err := fileSourceDef().Parse(map[string]string{"file": "f", "topic": "t"})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
}

// A rule sees the parsed values (defaults included, a key that did not
// parse as null), and its problems join the keys' own in Parse, Validate
// and a merged Def.
func TestRules(t *testing.T) {
	oneOf := func(v *Values) []Problem {
		if v.String("a") == "" && v.Int("b") == 0 {
			return []Problem{{Key: "a", Message: "one of a and b"}, {Key: "b", Message: "one of a and b"}}
		}
		return nil
	}
	def := func() *Def {
		return NewDef().
			Define(Key{Name: "a", Type: String, Default: "", Importance: High}).
			Define(Key{Name: "b", Type: Int, Default: 0, Importance: High}).
			Rule(oneOf)
	}
	given := func(v *Values) []Problem {
		if v.Given("c") && v.Bool("c") {
			return []Problem{{Key: "c", Message: "c given true"}}
		}
		return nil
	}
	tests := []struct {
		name  string
		def   *Def
		props map[string]string
		want  map[string][]string // errors by key, as Validate reports them
	}{
		{name: "rule satisfied", def: def(), props: map[string]string{"b": "2"}, want: map[string][]string{}},
		{name: "rule broken", def: def(), props: map[string]string{},
			want: map[string][]string{"a": {"one of a and b"}, "b": {"one of a and b"}}},
		{name: "a bad value reads as null and keeps its own error", def: def(), props: map[string]string{"b": "x"},
			want: map[string][]string{"a": {"one of a and b"}, "b": {"Invalid value x for configuration b: Not a number of type INT", "one of a and b"}}},
		{name: "merge keeps both Defs' rules",
			def:   def().Merge(NewDef().Define(Key{Name: "c", Type: Boolean, Default: true, Importance: Low}).Rule(given)),
			props: map[string]string{"c": "true"},
			want:  map[string][]string{"a": {"one of a and b"}, "b": {"one of a and b"}, "c": {"c given true"}}},
		{name: "a default is not given", def: NewDef().Define(Key{Name: "c", Type: Boolean, Default: true, Importance: Low}).Rule(given),
			props: map[string]string{}, want: map[string][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string][]string{}
			for _, r := range tt.def.Validate(tt.props) {
				if len(r.Errors) > 0 {
					got[r.Name] = r.Errors
				}
			}
			requireEqual(t, got, tt.want)
			_, err := tt.def.Parse(tt.props)
			if (err != nil) != (len(tt.want) > 0) {
				t.Fatalf("Parse error %v, want one: %v", err, len(tt.want) > 0)
			}
		})
	}
	requirePanic(t, `rule reports configuration "z"`, func() {
		NewDef().Rule(func(*Values) []Problem { return []Problem{{Key: "z", Message: "?"}} }).Validate(nil)
	})
}
