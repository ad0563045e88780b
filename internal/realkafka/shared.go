package realkafka

import (
	"context"
	"sync"
	"testing"
	"time"
)

// StartTimeout bounds the start of a cluster or of Connect (formatting and
// JVM start-up, on a busy two-core machine).
const StartTimeout = 3 * time.Minute

var (
	sharedMu       sync.Mutex
	sharedClusters = map[sharedKey]*Cluster{}
	sharedConnects []*Connect
)

// sharedKey is what tells shared clusters apart: Options without Props.
type sharedKey struct{ brokers, partitions, replication, minISR int }

// Shared returns the test binary's cluster with these options, starting it
// on first use; Main stops it when the tests are done. Options with Props
// cannot be shared (a map is no key): use Start.
func Shared(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	if opts.Props != nil {
		tb.Fatal("realkafka: Shared takes no Props; use Start")
	}
	opts = opts.withDefaults()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	key := sharedKey{opts.Brokers, opts.Partitions, opts.ReplicationFactor, opts.MinISR}
	if c, ok := sharedClusters[key]; ok {
		return c
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	start := time.Now()
	c, err := Start(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("realkafka: Apache Kafka %s, %d broker(s) at %s, started in %s", Version, opts.Brokers, c.Bootstrap(), time.Since(start).Round(time.Millisecond))
	sharedClusters[key] = c
	return c
}

// Fresh returns the shared cluster with these options after deleting every
// topic and consumer group a previous test left on it.
func Fresh(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	c := Shared(tb, opts)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Reset(ctx); err != nil {
		tb.Fatal(err)
	}
	return c
}

// CloseShared stops every shared cluster and Connect worker.
func CloseShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	for _, w := range sharedConnects {
		w.Close()
	}
	sharedConnects = nil
	for k, c := range sharedClusters {
		c.Close()
		delete(sharedClusters, k)
	}
}

// Main runs the tests and then stops the JVMs they shared:
//
//	func TestMain(m *testing.M) { os.Exit(realkafka.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	CloseShared()
	return code
}

// Require skips a test that only makes sense against Apache Kafka (a
// differential test, a replication fault) unless SLUICE_TEST_KAFKA=real,
// which `make test-kafka` sets; there, a missing java or missing jars fail
// the test.
func Require(tb testing.TB) {
	tb.Helper()
	if !Enabled() {
		tb.Skipf("runs against Apache Kafka: make test-kafka (%s=real)", Env)
	}
}
