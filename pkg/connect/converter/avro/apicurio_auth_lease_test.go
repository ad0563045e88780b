//go:build apicurio

package avro_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/apicuriotest"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/converter/avro"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// TestApicurioLeaseRefusedCredentials runs a sink lease over Avro records
// whose schema is in a real registry that enforces authentication
// (Apicurio 2.4.2 behind Quarkus's basic authentication, make
// test-registry). With a wrong password (errors.tolerance none) the lease
// fails, not retriably (the same credentials would be refused again), with
// an error naming the registry's URL and HTTP 401, and commits nothing; so
// does it under errors.tolerance=all with a dead letter queue (a refusal
// is the configuration's fault, not the records': none is dead-lettered);
// with the right credentials in the URL the same range is delivered, the
// damaged records dead-lettered.
func TestApicurioLeaseRefusedCredentials(t *testing.T) {
	k := kafkatest.Start(t, 1)
	reg := apicuriotest.SharedAuth(t)

	writer := avro.New()
	err := writer.Configure(map[string]string{schemaregistry.URLConfig: reg.URL,
		schemaregistry.BasicAuthSourceConfig: "USER_INFO", schemaregistry.UserInfoConfig: apicuriotest.User + ":" + apicuriotest.Password}, false)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	bad := produceOrders(t, k.Client, writer, "auth-orders", n)

	exec, mu, seen := collectingExecutor(t, k)
	base := map[string]string{
		"connector.class": "test.Collect", "topics": "auth-orders",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": avro.Class,
	}
	run := func(id, connector string, extra map[string]string) lease.Result {
		cfg := map[string]string{"name": connector}
		for k, v := range base {
			cfg[k] = v
		}
		for k, v := range extra {
			cfg[k] = v
		}
		return exec.Run(context.Background(), lease.Lease{ID: id, Kind: lease.KindSink, Connector: connector, Epoch: 1,
			Deadline: time.Now().Add(90 * time.Second), ConnectorConfig: cfg, TaskConfig: cfg,
			Ranges: []lease.Range{{Topic: "auth-orders", Partition: 0, Start: 0, End: n}}})
	}
	committed := func(connector string) int64 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tp := kafka.TopicPartition{Topic: "auth-orders", Partition: 0}
		m, err := k.Client.CommittedOffsets(ctx, lease.GroupID(connector), []kafka.TopicPartition{tp})
		if err != nil {
			t.Fatal(err)
		}
		return m[tp]
	}

	res := run("refused", "avro-auth-sink", map[string]string{
		"value.converter.schema.registry.url":           reg.URL,
		"value.converter.basic.auth.credentials.source": "USER_INFO",
		"value.converter.basic.auth.user.info":          apicuriotest.User + ":wrong",
	})
	if res.Status != lease.Failed || res.Retriable {
		t.Fatalf("wrong password: result %+v, want a failure that is not retriable", res)
	}
	if !strings.Contains(res.Error, reg.URL) || !strings.Contains(res.Error, "HTTP 401") || !strings.Contains(res.Error, "VALUE_CONVERTER") {
		t.Fatalf("the lease's error %q does not name the stage, %s and HTTP 401", res.Error, reg.URL)
	}
	if strings.Contains(res.Error, "wrong") {
		t.Fatalf("the lease's error %q quotes the password", res.Error)
	}
	if got := committed("avro-auth-sink"); got != -1 {
		t.Fatalf("committed %d with refused credentials", got)
	}

	// Under errors.tolerance=all a refusal is not tolerated: it would
	// send every record to the dead letter queue and commit the range.
	res = run("refused-tolerated", "avro-auth-sink-tolerant", map[string]string{
		"value.converter.schema.registry.url":           reg.URL,
		"value.converter.basic.auth.credentials.source": "USER_INFO",
		"value.converter.basic.auth.user.info":          apicuriotest.User + ":wrong",
		"errors.tolerance":                              "all", "errors.deadletterqueue.topic.name": "auth-orders-dlq-tolerant",
		"errors.deadletterqueue.topic.replication.factor": "1",
	})
	if res.Status != lease.Failed || res.Retriable || res.DeadLettered != 0 || res.Errors != 0 {
		t.Fatalf("wrong password, errors.tolerance=all: result %+v, want a failure that is not retriable, nothing dead-lettered", res)
	}
	if !strings.Contains(res.Error, "HTTP 401") {
		t.Fatalf("errors.tolerance=all: the lease's error %q does not name HTTP 401", res.Error)
	}
	if got := committed("avro-auth-sink-tolerant"); got != -1 {
		t.Fatalf("errors.tolerance=all: committed %d with refused credentials", got)
	}
	mu.Lock()
	if len(seen) != 0 {
		mu.Unlock()
		t.Fatalf("the sink got %d records with refused credentials", len(seen))
	}
	mu.Unlock()

	u := strings.Replace(reg.URL, "http://", "http://"+apicuriotest.User+":"+apicuriotest.Password+"@", 1)
	res = run("accepted", "avro-auth-sink", map[string]string{
		"value.converter.schema.registry.url": u,
		"errors.tolerance":                    "all", "errors.deadletterqueue.topic.name": "auth-orders-dlq",
		"errors.deadletterqueue.topic.replication.factor": "1",
	})
	if res.Status != lease.Succeeded || res.DeadLettered != int64(len(bad)) {
		t.Fatalf("right credentials: result %+v, want success with %d dead-lettered", res, len(bad))
	}
	if got := committed("avro-auth-sink"); got != n {
		t.Fatalf("committed %d, want %d", got, n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n-len(bad) {
		t.Fatalf("sink got %d records, want %d", len(seen), n-len(bad))
	}
}
