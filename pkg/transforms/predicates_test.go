package transforms

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestTopicNameMatches(t *testing.T) {
	tests := []struct {
		name, pattern, topic string
		want                 bool
	}{
		{"prefix matches (TopicNameMatchesTest)", "my-prefix-.*", "my-prefix-", true},
		{"prefix and more matches", "my-prefix-.*", "my-prefix-foo", true},
		{"must match the whole topic", "my-prefix-.*", "x-my-prefix-", false},
		{"no partial match at the end", "foo", "foobar", false},
		{"alternation is anchored as a whole", "a|ab", "ab", true},
		{"empty topic", ".+", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewTopicNameMatches()
			routingConfigure(t, p, map[string]string{"pattern": tt.pattern})
			if got := p.Test(&connect.TransformRecord{Record: connect.Record{Topic: tt.topic}}); got != tt.want {
				t.Errorf("Test(%q) = %v, want %v", tt.topic, got, tt.want)
			}
			if want := "TopicNameMatches{pattern=" + tt.pattern + "}"; p.String() != want {
				t.Errorf("String() = %q, want %q", p.String(), want)
			}
		})
	}
}

func TestHasHeaderKey(t *testing.T) {
	headers := connect.Headers{{Key: "foo", Schema: data.StringSchema, Value: "x"}, {Key: "bar", Value: nil}}
	tests := []struct {
		name    string
		props   map[string]string
		headers connect.Headers
		want    bool
	}{
		{"has it (HasHeaderKeyTest)", map[string]string{"name": "foo"}, headers, true},
		{"has it with a null value", map[string]string{"name": "bar"}, headers, true},
		{"lacks it", map[string]string{"name": "baz"}, headers, false},
		{"no headers", map[string]string{"name": "foo"}, nil, false},
		{"no name configured", map[string]string{}, headers, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewHasHeaderKey()
			routingConfigure(t, p, tt.props)
			if got := p.Test(&connect.TransformRecord{Record: connect.Record{Topic: "t", Headers: tt.headers}}); got != tt.want {
				t.Errorf("Test = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRecordIsTombstone(t *testing.T) {
	tests := []struct {
		name   string
		record connect.Record
		want   bool
	}{
		{"null value", connect.Record{Topic: "t", Key: "k"}, true},
		{"null value with a schema", connect.Record{Topic: "t", ValueSchema: data.OptionalStringSchema}, true},
		{"value", connect.Record{Topic: "t", Value: "v"}, false},
		{"empty string is not null", connect.Record{Topic: "t", Value: ""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewRecordIsTombstone()
			routingConfigure(t, p, nil)
			if got := p.Test(&connect.TransformRecord{Record: tt.record}); got != tt.want {
				t.Errorf("Test = %v, want %v", got, tt.want)
			}
		})
	}
}
