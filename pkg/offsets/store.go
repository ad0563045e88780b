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
