package sink

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

func TestCompatibilityChange(t *testing.T) {
	v1 := data.StructBuilder().Name("c").Version(1).Field("id", data.Int64Schema).MustBuild()
	v2 := data.StructBuilder().Name("c").Version(2).Field("id", data.Int64Schema).Field("x", data.OptionalStringSchema).MustBuild()
	noVersion := data.StructBuilder().Name("c").Field("id", data.Int64Schema).MustBuild()
	tests := []struct {
		name     string
		compat   compatibility
		cur, rec *data.Schema
		want     bool
		wantErr  string
	}{
		{"same schema", compatBackward, v1, v1, false, ""},
		{"NONE: any change", compatNone, v2, v1, true, ""},
		{"BACKWARD: newer rotates", compatBackward, v1, v2, true, ""},
		{"BACKWARD: older is projected", compatBackward, v2, v1, false, ""},
		{"FULL: as BACKWARD", compatFull, v1, v2, true, ""},
		{"FORWARD: older rotates", compatForward, v2, v1, true, ""},
		{"FORWARD: newer is projected", compatForward, v1, v2, false, ""},
		{"BACKWARD needs versions", compatBackward, v1, noVersion, false, "Schema version required for BACKWARD compatibility"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.compat.change(tt.cur, tt.rec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("change = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
