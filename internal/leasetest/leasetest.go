// Package leasetest holds what the invokers' tests share: an executor on a
// fresh in-process broker and a small datagen source lease.
package leasetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/plugins"
)

// Executor returns a lease executor with every built-in plugin, on a
// one-broker in-process cluster that the test stops.
func Executor(t *testing.T) *lease.Executor {
	t.Helper()
	k := kafkatest.Start(t, 1)
	return lease.NewExecutor(plugins.Registry(), k.Client, k.Offsets, lease.Options{SafetyMargin: 200 * time.Millisecond})
}

// DatagenLease is a source lease of connector "gen" producing count orders
// to topic "orders" as JSON, due in 10 s and ending after 100 ms idle.
func DatagenLease(id string, count int) lease.Lease {
	cfg := map[string]string{"name": "gen", "connector.class": "Datagen", "topic": "orders", "count": strconv.Itoa(count),
		"value.converter": "org.apache.kafka.connect.json.JsonConverter", "value.converter.schemas.enable": "false"}
	return lease.Lease{ID: id, Kind: lease.KindSource, Connector: "gen", Epoch: 1, Deadline: time.Now().Add(10 * time.Second),
		ConnectorConfig: cfg, TaskConfig: cfg, Budget: lease.Budget{MaxIdle: lease.Duration(100 * time.Millisecond)}}
}
