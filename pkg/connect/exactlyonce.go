package connect

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
