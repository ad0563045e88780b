package coordinator

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

// A source connector's offsets are in the worker's offsets topic, or, for
// a connector with its own offsets.storage.topic (whose leases read that
// topic and write it first, then the worker's: lease.Lease.OffsetsTopic,
// or lease.ExactlyOnce under exactly-once support), in both: the
// connector's topic first, the worker's second, as in Connect's
// ConnectorOffsetBackingStore (Worker.offsetStoreForRegularSourceConnector
// and offsetStoreForExactlyOnceSourceConnector).

// ownOffsetsTopic is the connector's own offsets topic: its
// offsets.storage.topic, unless that is the worker's topic or the
// worker's offsets are not in Kafka (standalone mode, whose file store
// Connect's StandaloneConfig never pairs with a connector's topic); ""
// if it has none. With exactly-once support disabled, as enabled.
func (c *Coordinator) ownOffsetsTopic(props map[string]string) string {
	topic := strings.TrimSpace(props[connect.OffsetsTopicConfig])
	if topic == "" || c.d.Kafka == nil || topic == cmp.Or(c.cfg.OffsetStorageTopic, state.DefaultOffsetTopic) {
		return ""
	}
	if _, inKafka := c.d.Offsets.(interface{ Topic() string }); !inKafka {
		return ""
	}
	return topic
}

// openOwnOffsets opens the connector's own offsets topic, created if
// missing as its leases create it; nil if it has none. The caller closes
// the store.
func (c *Coordinator) openOwnOffsets(ctx context.Context, props map[string]string) (*state.OffsetStore, error) {
	topic := c.ownOffsetsTopic(props)
	if topic == "" {
		return nil, nil
	}
	return state.NewOffsetStore(ctx, c.d.Kafka, kafka.TopicSpec{Name: topic, ReplicationFactor: c.cfg.ReplicationFactor})
}

// sourceOffsets returns a source connector's offsets, sorted by partition,
// as Connect reads them. With its own topic: every partition either topic
// holds, with the offset the connector's topic holds for it, nil (null)
// for a partition only the worker's holds. Connect 4.1 answers so (the
// connector's store answers every partition asked, null for those it
// lacks, over the worker's answers), and a lease reads only the
// connector's topic: nil is where it starts.
func (c *Coordinator) sourceOffsets(ctx context.Context, name string, props map[string]string) ([]rest.ConnectorOffset, error) {
	entries, err := c.d.Offsets.Load(ctx, name)
	if err != nil {
		return nil, err
	}
	own, err := c.openOwnOffsets(ctx, props)
	if err != nil {
		return nil, err
	}
	if own != nil {
		defer own.Close()
		ownEntries, err := own.Load(ctx, name)
		if err != nil {
			return nil, err
		}
		for id, e := range entries {
			entries[id] = offsets.Entry{Partition: e.Partition}
		}
		maps.Copy(entries, ownEntries)
	}
	out := make([]rest.ConnectorOffset, 0, len(entries))
	for _, id := range slices.Sorted(maps.Keys(entries)) {
		out = append(out, rest.ConnectorOffset{Partition: entries[id].Partition, Offset: entries[id].Offset})
	}
	return out, nil
}

// writeSourceOffsets writes a source connector's offsets (nil offsets
// remove partitions). With its own topic, in Connect's order
// (offsets.WriteConnectorFirst): the removals to the worker's topic, then
// everything to the connector's, then the offsets to the worker's; the
// last, as Connect's secondary write, is logged if it fails.
func (c *Coordinator) writeSourceOffsets(ctx context.Context, name string, props map[string]string, entries []offsets.Entry) error {
	own, err := c.openOwnOffsets(ctx, props)
	if err != nil {
		return err
	}
	if own == nil {
		return c.d.Offsets.Write(ctx, name, entries)
	}
	defer own.Close()
	return offsets.WriteConnectorFirst(ctx, own, c.d.Offsets, name, entries, func(err error) {
		c.log.Warn("writing offsets to the worker's offsets topic (the connector's own topic has them)", "connector", name, "error", err)
	})
}
