package state

import (
	"fmt"
	"strconv"
	"testing"
)

// BenchmarkOpen measures the state rebuild of a coordinator start-up: Open
// on topics holding 1,000 connectors with 10 tasks each (13,000 config
// records, 11,000 status records). The product target is under 5 s.
func BenchmarkOpen(b *testing.B) {
	const connectors, tasks = 1000, 10
	env := startKafka(b, 1)
	ctx := testCtx(b)
	s, err := Open(ctx, env.Client, Config{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	var cfgs, statuses []Record
	running := EncodeStatus(Status{State: StateRunning, WorkerID: "10.0.0.1:8083", Generation: 1})
	for c := range connectors {
		name := fmt.Sprintf("connector-%04d", c)
		props := map[string]string{
			"name": name, "connector.class": "io.confluent.connect.s3.S3SinkConnector",
			"tasks.max": strconv.Itoa(tasks), "topics": "orders,payments", "s3.bucket.name": "bucket",
			"flush.size": "1000", "format.class": "io.confluent.connect.s3.format.parquet.ParquetFormat",
		}
		cfgs = append(cfgs,
			Record{Key: []byte(TargetStateKey(name)), Value: EncodeTargetState(TargetStarted)},
			Record{Key: []byte(ConnectorKey(name)), Value: EncodeConnectorConfig(props)})
		statuses = append(statuses, Record{Key: []byte(ConnectorStatusKey(name)), Value: running})
		for n := range tasks {
			tp := map[string]string{"task.id": strconv.Itoa(n), "topics": "orders,payments", "s3.bucket.name": "bucket"}
			cfgs = append(cfgs, Record{Key: []byte(TaskKey(name, n)), Value: EncodeConnectorConfig(tp)})
			statuses = append(statuses, Record{Key: []byte(TaskStatusKey(name, n)), Value: running})
		}
		cfgs = append(cfgs, Record{Key: []byte(CommitKey(name)), Value: EncodeCommit(tasks)})
	}
	if err := s.Configs.log.SendAll(ctx, cfgs); err != nil {
		b.Fatal(err)
	}
	if err := s.Statuses.log.SendAll(ctx, statuses); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	for b.Loop() {
		s, err := Open(ctx, env.Client, Config{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		snap := s.Configs.Snapshot()
		if len(snap.Connectors) != connectors || len(snap.Connectors["connector-0999"].Tasks) != tasks ||
			len(s.Statuses.Tasks("connector-0999")) != tasks {
			b.Fatalf("rebuilt %d connectors", len(snap.Connectors))
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
