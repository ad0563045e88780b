package connect

import "github.com/sluicehq/sluice/pkg/connect/config"

// TransformRecord is the record a Transformation or Predicate sees: the
// fields every record has and, for sink records, the Kafka offset it was
// read at. The chain hands each transformation its own copy of the struct;
// a transformation reassigns fields (r.Value = newValue, r.Topic = ...) but
// never modifies the values they point to (maps, structs, slices, headers),
// which may be shared with the original record. To change headers, assign
// a modified r.Headers.Clone().
type TransformRecord struct {
	Record
	// KafkaOffset is a sink record's offset; -1 for source records.
	KafkaOffset int64
}

// Transformation is a single message transform (Connect's
// Transformation): configured once per task, then applied to each record,
// after Poll for sources and before Put for sinks. A configured
// Transformation is used from one goroutine at a time.
type Transformation interface {
	// Config declares the transformation's keys (Connect's config()); the
	// same declaration validates connector configurations.
	Config() *config.Def
	// Configure configures the transformation with its keys, the
	// "transforms.<alias>." prefix removed.
	Configure(props map[string]string) error
	// Apply transforms r in place. It returns keep=false to drop the record
	// (Connect's apply returning null).
	Apply(r *TransformRecord) (keep bool, err error)
	// Close releases what Configure acquired.
	Close() error
}

// Predicate decides whether a transformation applies to a record
// (Connect's Predicate).
type Predicate interface {
	Config() *config.Def
	// Configure configures the predicate with its keys, the
	// "predicates.<alias>." prefix removed.
	Configure(props map[string]string) error
	Test(r *TransformRecord) bool
	Close() error
}
