package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/lambdatest"
	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// request sends a JSON request and returns the status and body.
func request(method, url string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// The real coordinator with SLUICE_INVOKER=lambda, invoking the real
// function binaries through the emulated Lambda service: a datagen source
// and a FileStreamSink created through the REST API move every record from
// the generator through Kafka into the file, across processes.
func TestCoordinatorInvokesLambda(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	k := kafkatest.Start(t, 2)
	srcRT, sinkRT := lambdatest.NewRuntime(t, "source-poll"), lambdatest.NewRuntime(t, "sink-batch")
	lambdaSvc := lambdatest.NewService(t, 30*time.Second, srcRT, sinkRT)
	startFunction(t, srcRT, b.sourcePoll, functionEnv(k.Brokers)...)
	startFunction(t, sinkRT, b.sinkBatch, functionEnv(k.Brokers)...)
	srcRT.WaitReady(t, 20*time.Second)
	sinkRT.WaitReady(t, 20*time.Second)

	addr := proctest.FreeAddr(t)
	url := "http://" + addr
	began := time.Now()
	start(t, "coordinator", b.coordinator,
		"SLUICE_BOOTSTRAP_SERVERS="+strings.Join(k.Brokers, ","),
		"SLUICE_REST_LISTENER="+addr,
		"SLUICE_ALLOWED_PATHS="+os.TempDir(),
		"SLUICE_GROUP_ID=sluice-e2e",
		"SLUICE_INVOKER=lambda",
		"SLUICE_LAMBDA_SOURCE_FUNCTION=source-poll",
		"SLUICE_LAMBDA_SINK_FUNCTION=sink-batch",
		"SLUICE_LAMBDA_ENDPOINT="+lambdaSvc.URL(),
		"SLUICE_OFFSET_STORAGE_PARTITIONS=5",
		"SLUICE_LEASE_TIMEOUT=20s",
		"SLUICE_LEASE_MAX_TIME=1s",
		"SLUICE_SAFETY_MARGIN="+margin.String(),
		"SLUICE_RECONCILE_INTERVAL=200ms",
		"SLUICE_SINK_POLL_INTERVAL=200ms",
		"SLUICE_DEFAULT_ROTATE_INTERVAL=500ms",
		"SLUICE_IDLE_BACKOFF_MAX=1s",
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(t.TempDir(), "none"),
	)

	const orders = 300
	out := filepath.Join(t.TempDir(), "orders.txt")
	source := map[string]string{
		"connector.class": "Datagen", "topic": "orders", "count": fmt.Sprint(orders), "batch.size": "50", "tasks.max": "1",
		"key.converter":                  "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable": "false",
	}
	sink := map[string]string{
		"connector.class": "FileStreamSink", "topics": "orders", "file": out, "tasks.max": "1",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
	}
	// The REST API answers once the coordinator runs; creating a connector
	// succeeds once it leads.
	for _, c := range []struct {
		name   string
		config map[string]string
	}{{"orders-source", source}, {"orders-sink", sink}} {
		proctest.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
			status, body, err := request(http.MethodPost, url+"/connectors", map[string]any{"name": c.name, "config": c.config})
			if err != nil || status != http.StatusCreated {
				return fmt.Errorf("POST /connectors %s: %d %s %v", c.name, status, body, err)
			}
			return nil
		})
	}

	created := time.Now()
	proctest.CheckFor(t, 45*time.Second, 200*time.Millisecond, func() error {
		if n := len(lines(t, out)); n < orders {
			calls, errs := lambdaSvc.Stats()
			return fmt.Errorf("%d of %d orders in the file; invocations %v, function errors %q", n, orders, calls, errs)
		}
		return nil
	})

	done := time.Now()

	// Every record in the topic is in the file, once.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var inTopic []string
	for _, p := range []int32{0, 1} {
		tp := kafka.TopicPartition{Topic: "orders", Partition: p}
		wms, err := k.Client.Watermarks(ctx, []kafka.TopicPartition{tp})
		if err != nil {
			t.Fatal(err)
		}
		err = k.Client.FetchRange(ctx, tp, wms[tp].Low, wms[tp].High, 1<<20, func(ms []kafka.Message) error {
			for _, m := range ms {
				inTopic = append(inTopic, string(m.Value))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	inFile := lines(t, out)
	slices.Sort(inTopic)
	slices.Sort(inFile)
	if len(inTopic) != orders || !slices.Equal(inTopic, inFile) {
		t.Fatalf("%d records in the topic, %d lines in the file; they differ", len(inTopic), len(inFile))
	}
	// The source lease commits its offsets after its records are written,
	// so the sink may have put them all before the commit is visible.
	proctest.CheckFor(t, 10*time.Second, 100*time.Millisecond, func() error {
		if s := kafkaState(t, k, "orders", "orders-source"); s != (state{orders, orders}) {
			return fmt.Errorf("source state %+v, want %d records and seq %d", s, orders, orders)
		}
		return nil
	})
	calls, errs := lambdaSvc.Stats()
	if calls["source-poll"] == 0 || calls["sink-batch"] == 0 || len(errs) > 0 {
		t.Fatalf("invocations %v, function errors %q", calls, errs)
	}
	t.Logf("coordinator started and connectors created in %s; %d orders from datagen through Kafka to the file in %s; Lambda invocations %v",
		created.Sub(began).Round(time.Millisecond), orders, done.Sub(created).Round(time.Millisecond), calls)
}
