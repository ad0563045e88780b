package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
)

// A transactional producer (ProducerOptions.TransactionalID) sends records
// between BeginTxn and CommitTxn: a read_committed reader
// (Client.ReadCommittedRange) sees all of them once CommitTxn returns nil,
// and none of them if the transaction is aborted, by AbortTxn, by the
// broker's transaction timeout, or because a newer producer of the same
// transactional id was initialised (fencing). Send, SendAck and Flush work
// as for an idempotent producer.

// TransactionalID returns the producer's transactional id, empty when it is
// not transactional.
func (p *Producer) TransactionalID() string { return p.txnID }

// BeginTxn starts a transaction.
func (p *Producer) BeginTxn() error {
	if p.txnID == "" {
		return fmt.Errorf("kafka: BeginTxn: %w", sarama.ErrNonTransactedProducer)
	}
	if err := p.ap.BeginTxn(); err != nil {
		return fmt.Errorf("kafka: begin transaction of %s: %w", p.txnID, err)
	}
	return nil
}

// CommitTxn waits for every record sent in the transaction to be
// acknowledged (Flush), then commits the transaction. If a record failed,
// it returns that failure without committing: the caller must AbortTxn (or
// Close, leaving the broker to abort it). An error for which IsFenced is
// true means a newer producer of the same transactional id exists; nothing
// of the transaction becomes visible.
func (p *Producer) CommitTxn(ctx context.Context) error {
	if p.txnID == "" {
		return fmt.Errorf("kafka: CommitTxn: %w", sarama.ErrNonTransactedProducer)
	}
	if err := p.flushTxn(ctx); err != nil {
		return fmt.Errorf("kafka: transaction of %s not committed: %w", p.txnID, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("kafka: transaction of %s not committed: %w", p.txnID, err)
	}
	if err := p.ap.CommitTxn(); err != nil {
		return fmt.Errorf("kafka: commit transaction of %s: %w", p.txnID, err)
	}
	return nil
}

// AbortTxn aborts the open transaction: none of its records become
// visible to read_committed readers. Records still in flight are waited
// for first (their failures are dropped).
func (p *Producer) AbortTxn(ctx context.Context) error {
	if p.txnID == "" {
		return fmt.Errorf("kafka: AbortTxn: %w", sarama.ErrNonTransactedProducer)
	}
	if err := p.flushTxn(ctx); errors.Is(err, ErrTxnFatal) {
		return fmt.Errorf("kafka: abort transaction of %s: %w", p.txnID, err)
	} // other failures do not matter: the transaction is being aborted
	if err := p.ap.AbortTxn(); err != nil {
		return fmt.Errorf("kafka: abort transaction of %s: %w", p.txnID, err)
	}
	return nil
}

// flushTxn is Flush for a transaction: it also stops waiting when the
// producer's transaction failed, since sarama then keeps failing records
// in retries instead of reporting them at once.
//
// Until it returns, the producer sends the records it holds at once
// instead of lingering (ProducerOptions.Linger) for more: a transaction
// ends as soon as its last records are acknowledged, as the Java
// producer's commitTransaction flushes.
func (p *Producer) flushTxn(ctx context.Context) error {
	if f, ok := p.ap.(interface{ FlushBuffered() func() }); ok {
		defer f.FlushBuffered()()
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		p.mu.Lock()
		idle, n := p.idle, p.inflight
		p.mu.Unlock()
		if n == 0 {
			return p.Flush(ctx)
		}
		if err := p.txnFailure(); err != nil {
			return err
		}
		select {
		case <-idle:
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("kafka: flush with %d messages in flight: %w", n, ctx.Err())
		}
	}
}

// txnFailure reports a transaction in error: ErrTxnFatal (the producer is
// fenced or otherwise unusable) or ErrTxnAbortable.
func (p *Producer) txnFailure() error {
	st := p.ap.TxnStatus()
	switch {
	case st&sarama.ProducerTxnFlagFatalError != 0:
		return ErrTxnFatal
	case st&sarama.ProducerTxnFlagAbortableError != 0:
		return ErrTxnAbortable
	}
	return nil
}

// IsFenced reports whether err says a newer producer with the same
// transactional id was initialised (or the broker ended this one's
// transaction): the producer can no longer write, and its open
// transaction is aborted.
func IsFenced(err error) bool {
	return errors.Is(err, ErrTxnFatal) ||
		errors.Is(err, sarama.ErrProducerFenced) ||
		errors.Is(err, sarama.ErrInvalidProducerEpoch) ||
		errors.Is(err, sarama.ErrInvalidTxnState) ||
		errors.Is(err, sarama.ErrTransactionCoordinatorFenced)
}
