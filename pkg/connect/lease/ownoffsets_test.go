package lease_test

import (
	"context"

	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

// A source lease without exactly-once whose connector has its own
// offsets.storage.topic (Lease.OffsetsTopic) behaves as Kafka Connect's
// regular source task with a connector-specific store: it reads its
// offsets from the connector's topic (Connect's ConnectorOffsetBackingStore
// answers a partition the connector's topic lacks with null, over the
// worker's offset), and writes them to the connector's topic, then to the
// worker's.
func TestSourceLeaseOwnOffsetsTopic(t *testing.T) {
	const ownTopic = "src-offsets"
	p0 := map[string]any{"p": int64(0)}
	tests := []struct {
		name       string
		own        map[string]any // the connector's topic's offset for p0 before the lease; nil: none
		worker     map[string]any // the worker's
		wantValues []string
	}{
		{name: "resumes from the connector's topic, not the worker's",
			own: map[string]any{"i": int64(5)}, worker: map[string]any{"i": int64(3)}, wantValues: want(10)[5:]},
		{name: "an offset only the worker's topic holds is not read",
			worker: map[string]any{"i": int64(3)}, wantValues: want(10)},
		{name: "neither topic has one", wantValues: want(10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := kafkatest.Start(t, 1)
			ctx := context.Background()
			own, err := state.NewOffsetStore(ctx, k.Client, kafka.TopicSpec{Name: ownTopic})
			if err != nil {
				t.Fatal(err)
			}
			defer own.Close()
			for s, off := range map[offsets.Store]map[string]any{own: tt.own, k.Offsets: tt.worker} {
				if off != nil {
					if err := s.Write(ctx, "src", []offsets.Entry{{Partition: p0, Offset: off}}); err != nil {
						t.Fatal(err)
					}
				}
			}
			exec := lease.NewExecutor(newEnvRegistry(t), k.Client, k.Offsets, lease.Options{SafetyMargin: 500 * time.Millisecond,
				OpenOffsets: state.OffsetStoreOpener(k.Client, -1)})
			l := sourceLease("l1", 1, "out", 10, nil)
			l.OffsetsTopic = ownTopic
			res := exec.Run(ctx, l)
			if res.Status != lease.Succeeded {
				t.Fatalf("result: %+v", res)
			}
			if got := readTopic(t, k.Client, "out"); !slices.Equal(got, tt.wantValues) {
				t.Fatalf("produced %v, want %v", got, tt.wantValues)
			}
			// A store opened now reads both topics from the start.
			ownAfter, err := state.NewOffsetStore(ctx, k.Client, kafka.TopicSpec{Name: ownTopic})
			if err != nil {
				t.Fatal(err)
			}
			defer ownAfter.Close()
			workerAfter, err := state.NewOffsetStore(ctx, k.Client, kafka.TopicSpec{Name: k.Offsets.Topic()})
			if err != nil {
				t.Fatal(err)
			}
			defer workerAfter.Close()
			for _, s := range []*state.OffsetStore{ownAfter, workerAfter} {
				if got := storedOffset(t, s); got != int64(10) {
					t.Errorf("%s holds offset %v for p0, want 10 (written to the connector's topic, then the worker's)", s.Topic(), got)
				}
			}
		})
	}
}

// Lease.OffsetsTopic is for a source lease without exactly-once (whose
// ExactlyOnce names its own offsets topic); Check refuses it elsewhere.
func TestCheckRefusesMisplacedOffsetsTopic(t *testing.T) {
	reg := newEnvRegistry(t)
	eos := eosLease("l1", 1, "out", 5, lease.BoundaryPoll, nil)
	eos.OffsetsTopic = "src-offsets"
	sink := sinkLease("l2", 1, t.TempDir(), lease.Range{Topic: "in", Partition: 0, Start: 0, End: 1})
	sink.OffsetsTopic = "src-offsets"
	regular := sourceLease("l3", 1, "out", 5, nil)
	regular.OffsetsTopic = "src-offsets"
	tests := []struct {
		name    string
		l       lease.Lease
		wantErr bool
	}{
		{name: "exactly-once source lease", l: eos, wantErr: true},
		{name: "sink lease", l: sink, wantErr: true},
		{name: "source lease without exactly-once", l: regular},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lease.Check(reg, tt.l)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Check: %v, want an error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "offsets topic") {
				t.Fatalf("Check: %v, want it to name the offsets topic", err)
			}
		})
	}
}
