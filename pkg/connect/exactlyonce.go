package connect

import (
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Exactly-once source support (KIP-618): what a source connector answers
// about it, and how its tasks define transaction boundaries.

// ExactlyOnceSupport is a source connector's answer to whether it can
// provide exactly-once delivery with a configuration (Connect's
// ExactlyOnceSupport).
type ExactlyOnceSupport string

// The answers.
const (
	ExactlyOnceSupported   ExactlyOnceSupport = "SUPPORTED"
	ExactlyOnceUnsupported ExactlyOnceSupport = "UNSUPPORTED"
)

// ExactlyOnceConnector is implemented by a source connector that knows
// whether it supports exactly-once delivery (Connect's
// SourceConnector.exactlyOnceSupport): it can resume exactly from its
// source offsets. A connector without it is not known to support it, which
// fails validation of exactly.once.support=required.
type ExactlyOnceConnector interface {
	ExactlyOnceSupport(props map[string]string) ExactlyOnceSupport
}

// TransactionBoundaryConnector is implemented by a source connector whose
// tasks can define their own transaction boundaries (Connect's
// SourceConnector.canDefineTransactionBoundaries); only such a connector
// accepts transaction.boundary=connector.
type TransactionBoundaryConnector interface {
	CanDefineTransactionBoundaries(props map[string]string) bool
}

// TransactionContext lets a source task define transaction boundaries
// when transaction.boundary=connector (Connect's TransactionContext). A
// request made during Poll applies after the records that Poll returns are
// sent: CommitTransaction commits them with every record since the last
// boundary, AbortTransaction drops them all (their offsets are not
// committed either, so the next lease polls them again). Records after the
// last request when a lease ends are aborted.
type TransactionContext interface {
	CommitTransaction()
	AbortTransaction()
}

// Transactions returns tc's TransactionContext (Connect's
// SourceTaskContext.transactionContext()): nil unless the worker's
// exactly.once.source.support is enabled and the connector's
// transaction.boundary is connector.
func Transactions(tc SourceTaskContext) TransactionContext {
	if t, ok := tc.(interface{ TransactionContext() TransactionContext }); ok {
		return t.TransactionContext()
	}
	return nil
}

// The exactly-once keys of source connectors (KIP-618), as Connect's
// SourceConnectorConfig declares them.
const (
	ExactlyOnceSupportConfig             = "exactly.once.support"
	TransactionBoundaryConfig            = "transaction.boundary"
	TransactionBoundaryIntervalConfig    = "transaction.boundary.interval.ms"
	OffsetsTopicConfig                   = "offsets.storage.topic"
	ExactlyOnceSupportRequested          = "requested"
	ExactlyOnceSupportRequired           = "required"
	TransactionBoundaryPoll              = "poll"
	TransactionBoundaryInterval          = "interval"
	TransactionBoundaryConnectorValue    = "connector"
	exactlyOnceGroup                     = "Exactly Once Support"
	offsetsTopicGroup                    = "offsets.topic"
	DefaultTransactionBoundaryIntervalMS = 60000
)

// exactlyOnceKeys declares the keys in def.
func exactlyOnceKeys(def *config.Def) *config.Def {
	return def.
		Define(config.Key{Name: ExactlyOnceSupportConfig, Type: config.String, Default: ExactlyOnceSupportRequested, Importance: config.Medium,
			Validator: config.CaseInsensitiveValidString(ExactlyOnceSupportRequested, ExactlyOnceSupportRequired),
			Group:     exactlyOnceGroup, OrderInGroup: 2, Width: config.WidthShort, DisplayName: "Exactly once support",
			Doc: "Permitted values are requested, required. If set to \"required\", forces a preflight check for the connector to ensure " +
				"that it can provide exactly-once semantics with the given configuration. If the value is \"required\" and the " +
				"coordinator does not have exactly-once support enabled for source connectors (SLUICE_EXACTLY_ONCE_SOURCE_SUPPORT), " +
				"validating or creating the connector fails."}).
		Define(config.Key{Name: TransactionBoundaryConfig, Type: config.String, Default: TransactionBoundaryPoll, Importance: config.Medium,
			Validator: config.CaseInsensitiveValidString(TransactionBoundaryPoll, TransactionBoundaryInterval, TransactionBoundaryConnectorValue),
			Group:     exactlyOnceGroup, OrderInGroup: 3, Width: config.WidthShort, DisplayName: "Transaction Boundary",
			Doc: "Permitted values are: poll, interval, connector. 'poll' commits a transaction for every batch of records a task's " +
				"poll returns; 'interval' commits one every transaction.boundary.interval.ms; 'connector' relies on the connector's " +
				"transaction boundaries (only for connectors that can define them). In Sluice every lease also ends its transaction: " +
				"committed for poll and interval, aborted for connector (what the task did not ask to commit)."}).
		Define(config.Key{Name: TransactionBoundaryIntervalConfig, Type: config.Long, Default: nil, Importance: config.Low,
			Validator: config.LambdaValidator(func(name string, value any) error {
				if ms, ok := value.(int64); ok && ms < 0 {
					return config.InvalidValue(name, value, "Value must be at least 0")
				}
				return nil
			}, "[0,...] or null"), Group: exactlyOnceGroup, OrderInGroup: 4, Width: config.WidthShort, DisplayName: "Transaction boundary interval",
			Doc: "If 'transaction.boundary' is set to 'interval', determines the interval for producer transaction commits by connector " +
				"tasks. If unset, defaults to 60000 (Connect's offset.flush.interval.ms default). It has no effect if a different " +
				"transaction.boundary is specified."}).
		Define(config.Key{Name: OffsetsTopicConfig, Type: config.String, Default: nil, Importance: config.Low,
			Group: offsetsTopicGroup, OrderInGroup: 1, Width: config.WidthLong, DisplayName: "Offsets topic",
			Doc: "The name of a separate offsets topic to use for this connector. If empty or not specified, the worker's global offsets " +
				"topic name is used. Exactly-once source leases write the connector's offsets to it in their transactions (and read " +
				"them from it); it is created if it does not exist."})
}

// ExactlyOnceProblems checks a source connector's exactly-once keys
// against the worker's exactly.once.source.support (enabled true when it
// is "enabled") and the connector's own answers (ExactlyOnceConnector,
// TransactionBoundaryConnector), as Connect's preflight validation does.
// It returns the problems by key.
func ExactlyOnceProblems(p Plugin, props map[string]string, enabled bool) map[string][]string {
	if p.Kind != KindSource {
		return nil
	}
	problems := map[string][]string{}
	required := strings.EqualFold(strings.TrimSpace(props[ExactlyOnceSupportConfig]), ExactlyOnceSupportRequired)
	if !enabled {
		if required {
			problems[ExactlyOnceSupportConfig] = append(problems[ExactlyOnceSupportConfig],
				"This worker does not have exactly-once source support enabled (SLUICE_EXACTLY_ONCE_SOURCE_SUPPORT=enabled).")
		}
		return problems
	}
	c := p.NewConnector()
	if required {
		eo, ok := c.(ExactlyOnceConnector)
		switch {
		case !ok:
			problems[ExactlyOnceSupportConfig] = append(problems[ExactlyOnceSupportConfig],
				"The connector does not say whether it supports exactly-once semantics; set exactly.once.support to \"requested\" "+
					"if its documentation says it does.")
		case eo.ExactlyOnceSupport(props) != ExactlyOnceSupported:
			problems[ExactlyOnceSupportConfig] = append(problems[ExactlyOnceSupportConfig],
				"The connector does not support exactly-once semantics with the provided configuration.")
		}
	}
	if strings.EqualFold(strings.TrimSpace(props[TransactionBoundaryConfig]), TransactionBoundaryConnectorValue) {
		if tb, ok := c.(TransactionBoundaryConnector); !ok || !tb.CanDefineTransactionBoundaries(props) {
			problems[TransactionBoundaryConfig] = append(problems[TransactionBoundaryConfig],
				"The connector does not support connector-defined transaction boundaries with the given configuration. "+
					"Please reconfigure it to use a different transaction boundary definition.")
		}
	}
	return problems
}

// AddProblems adds messages to the keys' entries of validation results
// and recounts the errors.
func AddProblems(infos *config.Infos, problems map[string][]string) { addProblems(infos, problems) }
