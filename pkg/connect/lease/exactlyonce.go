package lease

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

// ExactlyOnce is how an exactly-once source lease (KIP-618) writes: with a
// transactional producer whose id is the task's, so that initialising it
// fences every older invocation of the task, and with the source offsets
// of each transaction's records written to OffsetsTopic in the same
// transaction. A read_committed consumer then sees every record once: a
// transaction that is not committed (the invocation was killed, fenced,
// or ran past its deadline) leaves neither its records nor its offsets
// visible, and the next lease polls the same records again.
type ExactlyOnce struct {
	// TransactionalID is Connect's: <group.id>-<connector>-<task>
	// (TransactionalID).
	TransactionalID string `json:"transactional_id"`
	// OffsetsTopic is where the source offsets are written, in Connect's
	// format: the connector's offsets.storage.topic, or the worker's.
	OffsetsTopic string `json:"offsets_topic"`
	// Boundary is transaction.boundary: BoundaryPoll (default),
	// BoundaryInterval or BoundaryConnector.
	Boundary string `json:"transaction_boundary,omitempty"`
	// Interval is transaction.boundary.interval.ms, for BoundaryInterval.
	Interval Duration `json:"transaction_boundary_interval,omitempty"`
}

// The transaction boundaries (Connect's transaction.boundary).
const (
	// BoundaryPoll commits a transaction after the records of each Poll.
	BoundaryPoll = "poll"
	// BoundaryInterval commits one every transaction.boundary.interval.ms.
	BoundaryInterval = "interval"
	// BoundaryConnector commits or aborts when the task asks through its
	// TransactionContext; records after the last request are aborted when
	// the lease ends.
	BoundaryConnector = "connector"
)

// TransactionalID is the transactional.id Kafka Connect gives a source
// task's producer (KIP-618): "<group.id>-<connector>-<task>".
func TransactionalID(groupID, connector string, task int) string {
	return fmt.Sprintf("%s-%s-%d", groupID, connector, task)
}

// check reports what is wrong with x.
func (x *ExactlyOnce) check() error {
	if x.TransactionalID == "" || x.OffsetsTopic == "" {
		return fmt.Errorf("%w: an exactly-once lease needs a transactional id and an offsets topic", ErrBadLease)
	}
	switch x.Boundary {
	case "", BoundaryPoll, BoundaryConnector:
	case BoundaryInterval:
		if x.Interval <= 0 {
			return fmt.Errorf("%w: transaction.boundary=interval needs a positive interval", ErrBadLease)
		}
	default:
		return fmt.Errorf("%w: unknown transaction boundary %q (want poll, interval or connector)", ErrBadLease, x.Boundary)
	}
	return nil
}

// txn is the transaction state of an exactly-once source lease.
type txn struct {
	x     *ExactlyOnce
	store offsets.Store // the offsets topic's store, read with read_committed
	// open: a transaction has begun and not ended; began is when.
	open  bool
	began time.Time
	// ctl is the task's TransactionContext under BoundaryConnector;
	// commit and abort are its requests taken with the batch being sent.
	ctl           *transactionContext
	commit, abort bool
	// committing is set while a transaction's CommitTxn runs on its own
	// goroutine (startCommit); it gets CommitTxn's result. prep holds a
	// poll's records prepared meanwhile (produceBatch).
	committing chan error
	prep       []prepared
}

// offsetStore returns the store of the offsets topic topic (an
// exactly-once lease's, or a connector's own): the executor's, if it is on
// that topic, else one opened with Options.OpenOffsets.
func (r *run) offsetStore(ctx context.Context, topic string) (offsets.Store, func(), error) {
	if t, ok := r.e.offsets.(interface{ Topic() string }); ok && t.Topic() == topic {
		return r.e.offsets, func() {}, nil
	}
	if r.e.opts.OpenOffsets == nil {
		return nil, nil, fmt.Errorf("%w: the executor cannot read the offsets topic %s (no OpenOffsets)", ErrBadLease, topic)
	}
	s, err := r.e.opts.OpenOffsets(ctx, topic)
	if err != nil {
		return nil, nil, connect.Retriable(fmt.Errorf("opening the offsets topic %s: %w", topic, err))
	}
	closer := func() {}
	if c, ok := s.(interface{ Close() error }); ok {
		closer = func() { _ = c.Close() }
	}
	return s, closer, nil
}

// begin starts a transaction before the first record sent after a
// boundary, once the previous transaction's commit has ended: no record is
// ever sent into a transaction being committed.
func (s *sourceLease) begin(ctx context.Context) error {
	if s.txn == nil {
		return nil
	}
	if err := s.awaitCommit(ctx); err != nil {
		return err
	}
	if s.txn.open {
		return nil
	}
	if err := s.producer.BeginTxn(); err != nil {
		return txnError(err)
	}
	s.txn.open, s.txn.began = true, s.e.opts.Now()
	return nil
}

// produceBatch produces the records of one poll in an exactly-once lease.
// While the previous transaction commits (startCommit), it runs them
// through the transformations and converters, which is most of a record's
// cost; it sends them once that commit has ended, in the next transaction.
// A record that fails in the stages fails the lease (unless tolerated)
// after that commit's outcome is known, and nothing of the batch is sent.
//
// With a dead letter queue, a failing record is written to it while being
// prepared, so the transaction begins first (after the commit): the dead
// letter belongs to the transaction of its batch.
func (s *sourceLease) produceBatch(ctx context.Context, recs []connect.SourceRecord) error {
	if s.st.h.dlqTopic != "" {
		if err := s.begin(ctx); err != nil {
			return err
		}
	}
	prep := s.txn.prep[:0]
	var perr error
	for i := range recs {
		p, err := s.prepare(ctx, &recs[i])
		if err != nil {
			perr = err
			break
		}
		prep = append(prep, p)
	}
	defer func() {
		clear(prep) // the messages' bytes and records are the producer's now
		s.txn.prep = prep[:0]
	}()
	if err := s.awaitCommit(ctx); err != nil {
		return err
	}
	if perr != nil {
		return perr
	}
	for i := range prep {
		if err := s.deliver(ctx, &prep[i]); err != nil {
			return err
		}
	}
	return nil
}

// boundary commits or aborts the open transaction if its boundary is
// reached: after each poll's records (BoundaryPoll), once the interval has
// passed (BoundaryInterval), or when the task asked (BoundaryConnector). A
// commit runs on while the lease prepares the next poll's records
// (startCommit); an abort is waited for.
func (s *sourceLease) boundary(ctx context.Context) error {
	t := s.txn
	if t == nil {
		return nil
	}
	switch t.x.Boundary {
	case BoundaryInterval:
		if !t.open || s.e.opts.Now().Sub(t.began) < time.Duration(t.x.Interval) {
			return nil
		}
	case BoundaryConnector:
		commit, abort := t.commit, t.abort
		t.commit, t.abort = false, false
		switch {
		case abort:
			return s.abortTxn(ctx)
		case !commit:
			return nil
		}
	}
	return s.startCommit(ctx)
}

// commitTxn commits the open transaction and waits for the outcome
// (startCommit, then awaitCommit): the source offsets of the transaction's
// records go to the offsets topic in the transaction, and once it is
// committed the task commits its records (CommitRecord) and those offsets
// (CommitOffsets).
func (s *sourceLease) commitTxn(ctx context.Context) error {
	if err := s.startCommit(ctx); err != nil {
		return err
	}
	return s.awaitCommit(ctx)
}

// startCommit writes the source offsets of the transaction's records to
// the offsets topic in the transaction and starts committing it (the
// producer's CommitTxn: every record acknowledged, then EndTxn) on its own
// goroutine; awaitCommit takes the outcome. Until then the lease sends
// nothing (begin waits). Nothing is committed past the lease's last
// commit time.
func (s *sourceLease) startCommit(ctx context.Context) error {
	if err := s.awaitCommit(ctx); err != nil {
		return err
	}
	if !s.txn.open && len(s.entries) == 0 {
		return nil
	}
	if err := s.mayCommit(); err != nil {
		return err
	}
	if err := s.begin(ctx); err != nil { // offsets of records all dropped by transforms
		return err
	}
	s.settleOffsets()
	for _, e := range s.entries {
		key, err := offsets.EncodeKey(s.lease.Connector, e.Partition)
		if err != nil {
			return err
		}
		value, err := offsets.EncodeValue(e.Offset)
		if err != nil {
			return err
		}
		if err := s.producer.Send(ctx, kafka.Message{Topic: s.txn.x.OffsetsTopic, Partition: -1, Key: key, Value: value}); err != nil {
			return txnError(err)
		}
	}
	if err := s.mayCommit(); err != nil {
		return err
	}
	done := make(chan error, 1)
	s.txn.committing = done
	go func() { done <- s.producer.CommitTxn(ctx) }()
	return nil
}

// awaitCommit waits for the commit startCommit started, if any, and
// takes its outcome (commitEnded).
func (s *sourceLease) awaitCommit(ctx context.Context) error {
	done := s.txn.committing
	if done == nil {
		return nil
	}
	s.txn.committing = nil
	return s.commitEnded(ctx, <-done)
}

// committed is the channel that gets the outcome of the commit running
// (startCommit), nil if none runs: pollLoop takes it as soon as it is
// known (commitEnded) rather than at the next poll's records, which an
// idle source may hand over much later.
func (s *sourceLease) committed() <-chan error {
	if s.txn == nil {
		return nil
	}
	return s.txn.committing
}

// commitEnded takes the outcome err of the commit startCommit started,
// received from committed (which it clears). Once the transaction is
// committed, it records the source offsets of its records (and mirrors
// them to the worker's offsets topic) and lets the task commit them
// (CommitRecord); if the commit failed, the transaction is aborted and the
// error returned.
func (s *sourceLease) commitEnded(ctx context.Context, err error) error {
	s.txn.committing = nil
	if err != nil {
		if errors.Is(err, kafka.ErrTxnAbortable) {
			// A record was refused; a refusal for an old producer epoch
			// shows as fencing only when the abort is refused too.
			if aerr := s.abortTxn(ctx); kafka.IsFenced(aerr) {
				return txnError(aerr)
			}
		}
		return txnError(err)
	}
	s.txn.open = false
	s.settleOffsets()
	s.mirrorOffsets(ctx)
	for _, e := range s.entries {
		s.res.SourceOffsets = append(s.res.SourceOffsets, SourceOffset{Partition: e.Partition, Offset: e.Offset})
	}
	written := s.entries
	s.resetEntries()
	s.uncommitted = counts{}
	if err := s.commitRecords(ctx); err != nil {
		return err
	}
	return s.commitOffsets(ctx, written)
}

// mirrorOffsets writes the committed transaction's source offsets to the
// worker's offsets topic too when the lease's offsets topic is another
// (the connector's own), as Connect's exactly-once task does: its
// ConnectorOffsetBackingStore writes the worker's store after the
// connector's, best effort, outside the transaction. A failure is logged.
func (s *sourceLease) mirrorOffsets(ctx context.Context) {
	if s.txn.store == s.e.offsets {
		return
	}
	var set []offsets.Entry
	for _, e := range s.entries {
		if e.Offset != nil {
			set = append(set, e)
		}
	}
	if len(set) == 0 {
		return
	}
	if err := s.e.offsets.Write(ctx, s.lease.Connector, set); err != nil {
		s.log.Warn("writing source offsets to the worker's offsets topic (the connector's own topic has them)", "error", err)
	}
}

// abortTxn aborts the open transaction: its records and offsets are
// dropped, and the task's source offsets stay where the last committed
// transaction left them.
func (s *sourceLease) abortTxn(ctx context.Context) error {
	if err := s.awaitCommit(ctx); err != nil { // the previous transaction's
		return err
	}
	s.resetEntries() // also of records transforms dropped
	if !s.txn.open {
		return nil
	}
	s.produced, s.acks = nil, nil
	s.res.Records -= s.uncommitted.records
	s.res.Bytes -= s.uncommitted.bytes
	s.uncommitted = counts{}
	s.txn.open = false
	if err := s.producer.AbortTxn(ctx); err != nil {
		return txnError(err)
	}
	return nil
}

// endTxn ends an exactly-once lease that stops without an error: the open
// transaction is committed, except under BoundaryConnector, where what the
// task did not ask to commit is aborted.
func (s *sourceLease) endTxn(ctx context.Context) error {
	if s.txn.x.Boundary == BoundaryConnector {
		if err := s.boundary(ctx); err != nil {
			return err
		}
		return s.abortTxn(ctx)
	}
	return s.commitTxn(ctx)
}

// txnError marks a transaction failure, retriable either way: fenced by a
// newer lease of the task (ErrFenced: this invocation is a zombie, or the
// connector's zombies were fenced while it ran; the coordinator's next
// lease goes on from the last committed offsets), or another failure.
func txnError(err error) error {
	if kafka.IsFenced(err) {
		return connect.Retriable(fmt.Errorf("%w: %w", ErrFenced, err))
	}
	return connect.Retriable(&StageError{Stage: StageKafkaProduce, Err: err})
}

// abandonTxn aborts an open transaction of a lease that failed, best
// effort and briefly: if it cannot (the producer was fenced, the broker is
// gone), the broker aborts it at its timeout or when the task's next lease
// initialises its producer.
func (s *sourceLease) abandonTxn() {
	if s.txn == nil {
		return
	}
	if done := s.txn.committing; done != nil { // not after pollLoop, which waits
		s.txn.committing = nil
		if <-done == nil {
			s.txn.open = false
		}
	}
	if !s.txn.open {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.txn.open = false
	_ = s.producer.AbortTxn(ctx)
}

// counts are records and bytes sent in the open transaction.
type counts struct{ records, bytes int64 }

// transactionContext is the connect.TransactionContext of a task under
// BoundaryConnector. The task calls it from Poll, on the poller's
// goroutine; the poller takes the requests with the records of that Poll
// (take), and the lease acts on them once those records are sent.
type transactionContext struct {
	mu            sync.Mutex
	commit, abort bool
}

func (t *transactionContext) CommitTransaction() { t.mu.Lock(); t.commit = true; t.mu.Unlock() }
func (t *transactionContext) AbortTransaction()  { t.mu.Lock(); t.abort = true; t.mu.Unlock() }

// take returns the requests made since the last take and clears them.
func (t *transactionContext) take() (commit, abort bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	commit, abort = t.commit, t.abort
	t.commit, t.abort = false, false
	return commit, abort
}
