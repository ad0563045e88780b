package batch

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzLambdaEvents: any sink-batch invocation payload is classified, and a
// Lambda Kafka event or an export request decoded, to a value or an
// ErrBadRequest/ErrUnknownEvent error, never a panic. What decodes is
// consistent: each partition's messages are in offset order and stop at
// the first undecodable record; an export's until survives a JSON round
// trip.
func FuzzLambdaEvents(f *testing.F) {
	// Lambda's MSK event, as its documentation shows it.
	f.Add([]byte(`{"eventSource": "aws:kafka", "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2",
		"bootstrapServers": "b-2.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092",
		"records": {"mytopic-0": [{"topic": "mytopic", "partition": 0, "offset": 15, "timestamp": 1545084650987, "timestampType": "CREATE_TIME",
			"key": "abcDEFghiJKLmnoPQRstuVWXyz1234==", "value": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
			"headers": [{"headerKey": [104, 101, 97, 100, 101, 114, 86, 97, 108, 117, 101]}]}]}}`))
	for _, s := range []string{
		`{"connector": "s3-sink", "until": "now"}`,
		`{"connector": "s3-sink", "until": {"orders-0": 10, "orders-1": 0}}`,
		`{"connector": "s3-sink", "until": "2024-05-01T00:00:00Z"}`,
		`{"eventSource": "SelfManagedKafka", "bootstrapServers": "b:9092", "records": {}}`,
		`{"eventSource": "aws:kafka", "records": {"t-0": [{"topic": "t", "partition": 0, "offset": 2, "value": "!!"}, {"topic": "t", "partition": 0, "offset": 1, "key": "aw=="}]}}`,
		`{"eventSource": "aws:kafka", "records": {"t-0": [{"topic": "u", "partition": 1}]}}`,
		`{"eventSource": "aws:kafka", "records": {"t-0": [{"topic": "t", "timestamp": -1, "headers": [{"h": [1, 2, 300]}]}]}}`,
		`{"Records": [{"eventSource": "aws:sqs"}]}`,
		`[]`, `null`, `"now"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		kind, err := classify(payload)
		if err != nil {
			if !errors.Is(err, ErrUnknownEvent) {
				t.Fatalf("classify error %v is not ErrUnknownEvent", err)
			}
			return
		}
		switch kind {
		case kafkaEventPayload:
			ev, err := parseKafkaEvent(payload)
			if err != nil {
				if !errors.Is(err, ErrBadRequest) {
					t.Fatalf("parseKafkaEvent error %v is not ErrBadRequest", err)
				}
				return
			}
			b, err := decodeKafkaEvent(ev, func(string) bool { return true }, "fuzz")
			if err != nil {
				if !errors.Is(err, ErrBadRequest) {
					t.Fatalf("decodeKafkaEvent error %v is not ErrBadRequest", err)
				}
				return
			}
			i := 0
			for _, ep := range b.parts {
				last := int64(-1 << 63)
				n := 0
				for i < len(b.msgs) && b.msgs[i].Topic == ep.tp.Topic && b.msgs[i].Partition == ep.tp.Partition {
					if b.msgs[i].Offset < last {
						t.Fatalf("partition %s: offset %d after %d", ep.key, b.msgs[i].Offset, last)
					}
					last = b.msgs[i].Offset
					i, n = i+1, n+1
				}
				if f := b.decodeFailed[ep.tp]; f != nil {
					if n >= len(ep.records) || f.Offset != ep.records[n].Offset {
						t.Fatalf("partition %s: decode failure at %d after %d of %d messages", ep.key, f.Offset, n, len(ep.records))
					}
				} else if n != len(ep.records) {
					t.Fatalf("partition %s: %d messages for %d records", ep.key, n, len(ep.records))
				}
			}
			if i != len(b.msgs) {
				t.Fatalf("%d messages outside their partitions' runs", len(b.msgs)-i)
			}
		case exportPayload:
			req, err := decodeExport(payload)
			if err != nil {
				if !errors.Is(err, ErrBadRequest) {
					t.Fatalf("decodeExport error %v is not ErrBadRequest", err)
				}
				return
			}
			enc, err := json.Marshal(req.Until)
			if err != nil {
				t.Fatalf("encoding until %+v: %v", req.Until, err)
			}
			var back Until
			if err := json.Unmarshal(enc, &back); err != nil || !reflect.DeepEqual(back, req.Until) {
				t.Fatalf("until %s read back as %+v, %v; want %+v", enc, back, err, req.Until)
			}
		default:
			t.Fatalf("classify returned %d and no error", kind)
		}
	})
}
