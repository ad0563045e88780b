package lease_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// The raw reporting sink is the reporting sink taking keys and values
// undecoded (connect.RawValueSink, connect.RawKeySink): it decodes each to
// choose the records it reports, and fails the Put on a value that was
// decoded for it.
var rawReportingSinkPlugin = connect.Plugin{
	Class: "test.RawReportingSinkConnector", Kind: connect.KindSink,
	NewConnector: func() connect.Connector { return &testConnector{} },
	NewSinkTask:  func() connect.SinkTask { return &rawReportingSink{} },
}

type rawReportingSink struct{ reportingSink }

func (*rawReportingSink) TakesRawValues(connect.Converter) bool { return true }
func (*rawReportingSink) TakesRawKeys(connect.Converter) bool   { return true }

func (s *rawReportingSink) Put(ctx context.Context, recs []connect.SinkRecord) error {
	for i := range recs {
		raw, ok := recs[i].Value.(*connect.RawValue)
		if !ok {
			return fmt.Errorf("offset %d: value put as %T, not undecoded", recs[i].Offset, recs[i].Value)
		}
		if _, ok := recs[i].Key.(*connect.RawValue); !ok {
			return fmt.Errorf("offset %d: key put as %T, not undecoded", recs[i].Offset, recs[i].Key)
		}
		_, v, err := raw.Decode()
		if err != nil {
			return err
		}
		if s.report[fmt.Sprint(v)] {
			if err := s.tc.ErrantRecordReporter().Report(ctx, &recs[i], fmt.Errorf("destination rejected the row")); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestErrantRecordReporterRawValues: a record a task reports with its key
// and value undecoded goes to the dead letter queue as the same record
// reported decoded does (serialised again by the converters, whose JSON
// differs from the record's own bytes here).
func TestErrantRecordReporterRawValues(t *testing.T) {
	e := errorEnv(t)
	reg, err := connect.NewRegistry(append(converter.Plugins(), reportingSinkPlugin, rawReportingSinkPlugin)...)
	if err != nil {
		t.Fatal(err)
	}
	exec := lease.NewExecutor(reg, e.client, e.store, lease.Options{SafetyMargin: 500 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.client.EnsureTopic(ctx, kafka.TopicSpec{Name: "in", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := e.client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		v := fmt.Sprintf(`{ "n" : %d, "name":"\u00e9%d", "a": [1, 2.50] }`, i, i)
		p.Send(ctx, kafka.Message{Topic: "in", Partition: 0, Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(v)})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()

	report := []string{"map[a:[1 2.5] n:3 name:é3]", "map[a:[1 2.5] n:11 name:é11]"}
	deadLetters := func(class, dlq string) []string {
		cfg := map[string]string{"connector.class": class, "report": strings.Join(report, ","), "errors.tolerance": "all",
			"errors.deadletterqueue.topic.name": dlq, "errors.deadletterqueue.topic.replication.factor": "1"}
		res := exec.Run(context.Background(), sinkErrLease(dlq, n, cfg))
		if res.Status != lease.Succeeded || res.DeadLettered != 2 {
			t.Fatalf("%s: %+v", class, res)
		}
		var out []string
		for _, m := range readAll(t, e.client, dlq) {
			out = append(out, fmt.Sprintf("%s %s", m.Key, m.Value))
		}
		return out
	}
	want := deadLetters(reportingSinkPlugin.Class, "dlq-decoded")
	got := deadLetters(rawReportingSinkPlugin.Class, "dlq-raw")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("dead letters of the undecoded records\n%q\nof the decoded ones\n%q", got, want)
	}
	if len(want) != 2 || !strings.HasPrefix(want[0], "k3 {") {
		t.Fatalf("dead letters %q", want)
	}
}
