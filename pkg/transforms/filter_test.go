package transforms

import (
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name   string
		record connect.TransformRecord
	}{
		{"record", connect.TransformRecord{Record: connect.Record{Topic: "t", Value: "v"}}},
		{"tombstone", connect.TransformRecord{Record: connect.Record{Topic: "t"}, KafkaOffset: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := NewFilter()
			routingConfigure(t, x, nil)
			if _, keep, err := routingApply(t, x, tt.record); keep || err != nil {
				t.Errorf("Apply = %v, %v; want false, nil", keep, err)
			}
		})
	}
}
