package offsets

import "context"

// Store reads and writes one connector's source offsets. Implementations are
// safe for concurrent use.
type Store interface {
	// Load returns the connector's current offsets keyed by PartitionID.
	// Deleted entries are absent. The returned maps belong to the caller.
	Load(ctx context.Context, connector string) (map[string]Entry, error)
	// Write stores entries for the connector; an Entry with a nil Offset
	// deletes its partition. The entries are durable when Write returns nil.
	Write(ctx context.Context, connector string, entries []Entry) error
}

// WriteConnectorFirst writes a connector's entries when it has its own
// offsets store (its offsets.storage.topic) besides the worker's, in the
// order Kafka Connect's ConnectorOffsetBackingStore.set writes them: the
// removals (nil offsets) to the worker's store, then every entry to the
// connector's, then the other entries to the worker's, so that a
// partition removed from the connector's store is never left in the
// worker's alone. The first two writes decide the outcome; the last is
// Connect's best-effort secondary write: its error goes to secondaryFailed
// and is not returned.
func WriteConnectorFirst(ctx context.Context, connectorStore, workerStore Store, connector string, entries []Entry, secondaryFailed func(error)) error {
	var removed, set []Entry
	for _, e := range entries {
		if e.Offset == nil {
			removed = append(removed, e)
		} else {
			set = append(set, e)
		}
	}
	if len(removed) > 0 {
		if err := workerStore.Write(ctx, connector, removed); err != nil {
			return err
		}
	}
	if err := connectorStore.Write(ctx, connector, entries); err != nil {
		return err
	}
	if len(set) > 0 {
		if err := workerStore.Write(ctx, connector, set); err != nil && secondaryFailed != nil {
			secondaryFailed(err)
		}
	}
	return nil
}
