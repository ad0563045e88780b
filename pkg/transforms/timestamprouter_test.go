package transforms

import (
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
)

func TestTimestampRouter(t *testing.T) {
	tests := []struct {
		name      string
		props     map[string]string
		topic     string
		timestamp time.Time
		want      string
		wantErr   string
	}{
		{name: "defaults (TimestampRouterTest)", topic: "test", timestamp: time.UnixMilli(1483425001864), want: "test-20170103"},
		{name: "custom formats", props: map[string]string{"topic.format": "${timestamp}_${topic}_${topic}", "timestamp.format": "yyyy-MM-dd'T'HH"},
			topic: "t", timestamp: time.UnixMilli(1483425001864), want: "2017-01-03T06_t_t"},
		{name: "formatted in UTC", props: map[string]string{"timestamp.format": "yyyyMMddHH"}, topic: "t",
			timestamp: time.Date(2017, 1, 3, 23, 0, 0, 0, time.FixedZone("", -5*3600)), want: "t-2017010404"},
		{name: "no placeholders", props: map[string]string{"topic.format": "fixed"}, topic: "t", timestamp: time.UnixMilli(1), want: "fixed"},
		{name: "missing timestamp", topic: "test",
			wantErr: "Timestamp missing on record: ConnectRecord{topic='test', kafkaPartition=null, key=null, keySchema=null, value=v, valueSchema=null, timestamp=null, headers=ConnectHeaders(headers=)}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := NewTimestampRouter()
			routingConfigure(t, x, tt.props)
			out, keep, err := routingApply(t, x, connect.TransformRecord{Record: connect.Record{Topic: tt.topic, Value: "v", Timestamp: tt.timestamp}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Apply error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !keep {
				t.Fatalf("Apply = %v, %v", keep, err)
			}
			if out.Topic != tt.want || !out.Timestamp.Equal(tt.timestamp) {
				t.Errorf("topic = %q, want %q", out.Topic, tt.want)
			}
		})
	}
}
