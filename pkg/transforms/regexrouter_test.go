package transforms

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
)

// TestRegexRouter runs testdata/routing/regexrouter.json: Kafka's
// RegexRouterTest cases and Java replacement-syntax cases.
func TestRegexRouter(t *testing.T) {
	raw, err := os.ReadFile("testdata/routing/regexrouter.json")
	if err != nil {
		t.Fatal(err)
	}
	var tests []struct {
		Name, Regex, Replacement, Topic, Want, WantErr string
	}
	if err := json.Unmarshal(raw, &tests); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			x := NewRegexRouter()
			routingConfigure(t, x, map[string]string{"regex": tt.Regex, "replacement": tt.Replacement})
			out, keep, err := routingApply(t, x, connect.TransformRecord{Record: connect.Record{Topic: tt.Topic, Value: "v"}})
			if tt.WantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.WantErr) {
					t.Fatalf("Apply error = %v, want one containing %q", err, tt.WantErr)
				}
				return
			}
			if err != nil || !keep {
				t.Fatalf("Apply = %v, %v", keep, err)
			}
			if out.Topic != tt.Want || out.Value != "v" {
				t.Errorf("topic = %q, want %q", out.Topic, tt.Want)
			}
		})
	}
}
