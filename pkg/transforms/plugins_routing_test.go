package transforms

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// routingConfigure configures x with props and fails the test on error.
func routingConfigure(t *testing.T, x interface {
	Configure(map[string]string) error
}, props map[string]string) {
	t.Helper()
	if err := x.Configure(props); err != nil {
		t.Fatalf("Configure(%v): %v", props, err)
	}
}

// routingApply applies x to a copy of r, checks that r was not modified,
// and returns the result.
func routingApply(t *testing.T, x connect.Transformation, r connect.TransformRecord) (connect.TransformRecord, bool, error) {
	t.Helper()
	before := routingSnapshot(r)
	out := r
	keep, err := x.Apply(&out)
	if after := routingSnapshot(r); after != before {
		t.Errorf("Apply modified its input:\nbefore %s\nafter  %s", before, after)
	}
	return out, keep, err
}

// routingSnapshot describes everything a transformation could modify in
// place: map and struct contents and headers.
func routingSnapshot(r connect.TransformRecord) string {
	var b strings.Builder
	b.WriteString(r.Topic)
	for _, v := range []any{r.Key, r.Value} {
		b.WriteString("|" + routingValueString(v))
	}
	for _, h := range r.Headers {
		b.WriteString("|" + h.Key + "=" + routingValueString(h.Value))
	}
	return b.String()
}

func routingValueString(v any) string {
	switch x := v.(type) {
	case *data.Struct:
		if x == nil {
			return "nil"
		}
		return x.String()
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k, val := range x {
			keys = append(keys, k+":"+routingValueString(val))
		}
		sort.Strings(keys)
		return "{" + strings.Join(keys, ",") + "}"
	}
	return strings.TrimSpace(strings.ReplaceAll(fmt.Sprintf("%#v", v), "\n", " "))
}

func TestRoutingPlugins(t *testing.T) {
	want := []string{
		"org.apache.kafka.connect.transforms.TimestampConverter$Key",
		"org.apache.kafka.connect.transforms.TimestampConverter$Value",
		"org.apache.kafka.connect.transforms.TimestampRouter",
		"org.apache.kafka.connect.transforms.RegexRouter",
		"org.apache.kafka.connect.transforms.Filter",
		"org.apache.kafka.connect.transforms.InsertHeader",
		"org.apache.kafka.connect.transforms.DropHeaders",
		"org.apache.kafka.connect.transforms.HeaderFrom$Key",
		"org.apache.kafka.connect.transforms.HeaderFrom$Value",
		"org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
		"org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
	}
	plugins := routingPlugins()
	if len(plugins) != len(want) {
		t.Fatalf("routingPlugins() has %d plugins, want %d", len(plugins), len(want))
	}
	for i, p := range plugins {
		t.Run(p.SimpleName(), func(t *testing.T) {
			if p.Class != want[i] {
				t.Errorf("Class = %q, want %q", p.Class, want[i])
			}
			if p.Version == "" {
				t.Error("Version is empty")
			}
			switch p.Kind {
			case connect.KindTransformation:
				x := p.NewTransformation()
				for _, k := range x.Config().Keys() {
					if k.Doc == "" {
						t.Errorf("key %s has no documentation", k.Name)
					}
				}
			case connect.KindPredicate:
				x := p.NewPredicate()
				for _, k := range x.Config().Keys() {
					if k.Doc == "" {
						t.Errorf("key %s has no documentation", k.Name)
					}
				}
			default:
				t.Errorf("Kind = %q", p.Kind)
			}
		})
	}
}

// TestRoutingConfigErrors checks that each plugin rejects a value of the
// wrong type or outside its validator, with Connect's message.
func TestRoutingConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		class   string
		props   map[string]string
		wantErr string
	}{
		{"timestamp converter missing target type", "TimestampConverter$Value", map[string]string{},
			`Missing required configuration "target.type" which has no default value.`},
		{"timestamp converter bad target type", "TimestampConverter$Value", map[string]string{"target.type": "invalid"},
			"Invalid value invalid for configuration target.type: String must be one of: string, unix, Date, Time, Timestamp"},
		{"timestamp converter bad precision", "TimestampConverter$Key", map[string]string{"target.type": "unix", "unix.precision": "invalid"},
			"Invalid value invalid for configuration unix.precision: String must be one of: nanoseconds, microseconds, milliseconds, seconds"},
		{"timestamp converter boolean", "TimestampConverter$Value", map[string]string{"target.type": "unix", "replace.null.with.default": "maybe"},
			"Invalid value maybe for configuration replace.null.with.default: Expected value to be either true or false"},
		{"timestamp converter missing format", "TimestampConverter$Value", map[string]string{"target.type": "string"},
			"TimestampConverter requires format option to be specified when using string timestamps"},
		{"timestamp converter bad format", "TimestampConverter$Value", map[string]string{"target.type": "string", "format": "bad-format"},
			"TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: bad-format"},
		{"timestamp router bad format", "TimestampRouter", map[string]string{"timestamp.format": "bbb"},
			"Invalid value bbb for configuration timestamp.format"},
		{"regex router missing keys", "RegexRouter", map[string]string{},
			`Missing required configuration "regex" which has no default value.`},
		{"regex router bad regex", "RegexRouter", map[string]string{"regex": "(", "replacement": "x"},
			"Invalid value ( for configuration regex: Invalid regex"},
		{"filter unknown keys are fine but none needed", "Filter", map[string]string{"x": "y"}, ""},
		{"insert header missing literal", "InsertHeader", map[string]string{"header": "h"},
			`Missing required configuration "value.literal" which has no default value.`},
		{"drop headers empty", "DropHeaders", map[string]string{"headers": ""},
			"Invalid value [] for configuration headers: Empty list"},
		{"header from bad operation", "HeaderFrom$Value", map[string]string{"fields": "a", "headers": "b", "operation": "steal"},
			"Invalid value steal for configuration operation: String must be one of: move, copy"},
		{"header from sizes differ", "HeaderFrom$Key", map[string]string{"fields": "a,b", "headers": "b", "operation": "copy"},
			"'fields' config must have the same number of elements as 'headers' config."},
		{"header from boolean", "HeaderFrom$Key", map[string]string{"fields": "a", "headers": "b", "operation": "copy", "replace.null.with.default": "1"},
			"Invalid value 1 for configuration replace.null.with.default: Expected value to be either true or false"},
		{"topic name matches empty", "predicates.TopicNameMatches", map[string]string{"pattern": ""},
			"Invalid value  for configuration pattern: String must be non-empty"},
		{"topic name matches bad regex", "predicates.TopicNameMatches", map[string]string{"pattern": "["},
			"Invalid value [ for configuration pattern: Invalid regex"},
		{"has header key empty", "predicates.HasHeaderKey", map[string]string{"name": ""},
			"Invalid value  for configuration name: String must be non-empty"},
		{"record is tombstone", "predicates.RecordIsTombstone", map[string]string{}, ""},
	}
	byClass := map[string]connect.Plugin{}
	for _, p := range routingPlugins() {
		byClass[strings.TrimPrefix(p.Class, "org.apache.kafka.connect.transforms.")] = p
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := byClass[tt.class]
			if !ok {
				t.Fatalf("no plugin %s", tt.class)
			}
			var err error
			if p.Kind == connect.KindPredicate {
				err = p.NewPredicate().Configure(tt.props)
			} else {
				err = p.NewTransformation().Configure(tt.props)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Configure: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Configure error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
