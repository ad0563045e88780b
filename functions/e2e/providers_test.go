package e2e

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/lambdatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// A config provider reference in a lease is resolved inside the function,
// where the task runs: here the topic comes from the function's
// environment through Kafka's EnvVarConfigProvider, declared inline in
// SLUICE_CONFIG_PROVIDERS.
func TestFunctionResolvesConfigProviders(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	k := kafkatest.Start(t, 1)
	rt := lambdatest.NewRuntime(t, "source-poll")
	env := append(functionEnv(k.Brokers),
		"SLUICE_CONFIG_PROVIDERS=config.providers=env;config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider;config.providers.env.param.allowlist.pattern=ORDERS_.*",
		"ORDERS_TOPIC=resolved-orders")
	startFunction(t, rt, b.sourcePoll, env...)
	rt.WaitReady(t, 20*time.Second)

	l := datagenLease("ref-1", "ref", "${env:ORDERS_TOPIC}", 1, 20, 0,
		lease.Budget{MaxIdle: lease.Duration(200 * time.Millisecond)}, time.Now().Add(30*time.Second))
	res, _ := invokeLease(t, rt, l, 30*time.Second)
	if res.Status != lease.Succeeded || res.Records != 20 || len(res.Topics) != 1 || res.Topics[0] != "resolved-orders" {
		t.Fatalf("lease with a provider reference: %+v", res)
	}
	if s := kafkaState(t, k, "resolved-orders", "ref"); s.records != 20 {
		t.Fatalf("resolved topic holds %+v", s)
	}
}
