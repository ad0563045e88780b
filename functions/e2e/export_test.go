package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sstate "github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/lambdatest"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// The sink-batch binary under Lambda serves an export request (as an
// EventBridge schedule sends it) for a connector whose configuration is in
// the configs topic, and rejects an unknown event in Lambda's error shape.
func TestSinkBatchExportRequest(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	k := kafkatest.Start(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if err := k.Client.EnsureTopic(ctx, kafka.TopicSpec{Name: "exp-in", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	p, err := k.Client.NewProducer(kafka.ProducerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		p.Send(context.Background(), kafka.Message{Topic: "exp-in", Partition: 0, Value: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()
	dir := t.TempDir()
	st, err := sstate.Open(ctx, k.Client, sstate.Config{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Configs.PutConnectorConfig(ctx, "exp", map[string]string{"name": "exp", "connector.class": "io.sluice.connect.storage.LocalSinkConnector",
		"topics": "exp-in", "local.dir": dir, "flush.size": "5", "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false"}, "")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	rt := lambdatest.NewRuntime(t, "sink-batch")
	startFunction(t, rt, b.sinkBatch, functionEnv(k.Brokers)...)
	rt.WaitReady(t, 20*time.Second)

	o, err := rt.Invoke(ctx, []byte(`{"connector":"exp","until":"now"}`), 20*time.Second)
	if err != nil || o.Failed {
		t.Fatalf("export request: %v, %s", err, o.Body)
	}
	var summary struct {
		Complete bool  `json:"complete"`
		Records  int64 `json:"records"`
	}
	if err := json.Unmarshal(o.Body, &summary); err != nil || !summary.Complete || summary.Records != 12 {
		t.Fatalf("export summary %s (%v)", o.Body, err)
	}
	var files []string
	_ = filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files = append(files, filepath.Base(path))
		}
		return nil
	})
	if len(files) != 3 { // 5 + 5 + 2 records, flush.size 5
		t.Fatalf("exported files %v, want 3", files)
	}

	o, err = rt.Invoke(ctx, []byte(`{"Records":[{"eventSource":"aws:sqs"}]}`), 10*time.Second)
	var le lambdatest.Error
	if err != nil || !o.Failed || json.Unmarshal(o.Body, &le) != nil || le.ErrorType != "Sluice.UnknownEvent" {
		t.Fatalf("unknown event: %v failed=%v %s", err, o.Failed, o.Body)
	}
	if strings.Count(le.ErrorMessage, "unknown event shape") != 1 || !strings.Contains(le.ErrorMessage, "expected an export request") {
		t.Fatalf("unknown event message %q, want \"unknown event shape\" once and what was expected", le.ErrorMessage)
	}
}
