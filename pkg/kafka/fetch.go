package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/IBM/sarama"
)

const (
	// defaultFetchBytes bounds a fetch when FetchRange's maxBytes is not
	// positive (Java max.partition.fetch.bytes).
	defaultFetchBytes = 1 << 20
	// requestFetchBytes is a Fetch request's own byte limit (Java
	// fetch.max.bytes). The partition's limit (maxBytes) is the one that
	// bounds a read; the request's stays above it, as Java's consumer
	// sends them: the embedded broker (kfake) leaves out the list of
	// aborted transactions of a response the request's limit ended, and a
	// read_committed reader would then show aborted records
	// (TestReadCommittedFullFetchLeavesAbortedOut).
	requestFetchBytes = 50 << 20
	// fetchVersion is the Fetch request version sent: 11 is the newest
	// sarama encodes with per-partition log start offsets and leader epochs.
	fetchVersion = 11
)

// FetchRange reads exactly the records with offsets in [start, end) of one
// partition, in offset order, and calls fn with each non-empty batch of them
// (one batch per fetch response). fn may keep the slices it is given. An
// error from fn stops the read and is returned as is.
//
// Offsets may have gaps (compacted records, transaction markers, control
// batches): FetchRange moves on by the offsets the log reports and the high
// watermark, and never waits for records that do not exist. It reads with
// read_uncommitted isolation, as Connect's sink consumers do by default.
//
// It checks the range first (ListOffsets): a start below the log start
// offset (deleted data) returns an error wrapping ErrOffsetOutOfRange and an
// end beyond the high watermark an error wrapping ErrBeyondHighWatermark,
// both naming the offsets, without calling fn. start == end reads nothing.
// maxBytes bounds each fetch request (default 1 MiB when not positive); a
// single batch larger than it is still returned whole, as Kafka does.
// Leader changes are followed by refreshing metadata, a bounded number of
// times. FetchRange starts no goroutines.
func (c *Client) FetchRange(ctx context.Context, tp TopicPartition, start, end int64, maxBytes int32, fn func([]Message) error) error {
	if start < 0 || end < start {
		return fmt.Errorf("%w: %s [%d, %d)", ErrInvalidRange, tp, start, end)
	}
	if start == end {
		return ctx.Err()
	}
	wms, err := c.Watermarks(ctx, []TopicPartition{tp})
	if err != nil {
		return err
	}
	wm := wms[tp]
	if start < wm.Low {
		return fmt.Errorf("%w: %s start %d is below the log start offset %d (records deleted)", ErrOffsetOutOfRange, tp, start, wm.Low)
	}
	if end > wm.High {
		return fmt.Errorf("%w: %s end %d is beyond the high watermark %d", ErrBeyondHighWatermark, tp, end, wm.High)
	}
	return c.ReadRange(ctx, tp, start, end, maxBytes, fn)
}

// ReadRange is FetchRange without the check of the range against the log
// (no ListOffsets), for a caller that took the watermarks itself just
// before. A range that turns out to start below the log start fails with
// ErrOffsetOutOfRange from the fetch; one that ends beyond the high
// watermark fails once the records run out, after fn has had those that
// exist.
func (c *Client) ReadRange(ctx context.Context, tp TopicPartition, start, end int64, maxBytes int32, fn func([]Message) error) error {
	return c.readRange(ctx, tp, start, end, maxBytes, sarama.ReadUncommitted, fn)
}

// ReadCommittedRange is ReadRange with read_committed isolation (Java
// isolation.level=read_committed): records of aborted transactions are
// left out, and end must not pass the partition's last stable offset
// (StableWatermarks), below which every transaction is decided.
func (c *Client) ReadCommittedRange(ctx context.Context, tp TopicPartition, start, end int64, maxBytes int32, fn func([]Message) error) error {
	return c.readRange(ctx, tp, start, end, maxBytes, sarama.ReadCommitted, fn)
}

func (c *Client) readRange(ctx context.Context, tp TopicPartition, start, end int64, maxBytes int32, iso sarama.IsolationLevel, fn func([]Message) error) error {
	if start < 0 || end < start {
		return fmt.Errorf("%w: %s [%d, %d)", ErrInvalidRange, tp, start, end)
	}
	if maxBytes <= 0 {
		maxBytes = defaultFetchBytes
	}
	offset := start
	failures := 0
	backoff := retryBackoff
	for offset < end {
		if err := ctx.Err(); err != nil {
			return err
		}
		block, err := c.fetchOnce(tp, offset, maxBytes, iso)
		if err == nil && !errors.Is(block.Err, sarama.ErrNoError) {
			err = fmt.Errorf("kafka: fetch %s at offset %d: %w", tp, offset, block.Err)
		}
		if err != nil {
			if block != nil && errors.Is(err, sarama.ErrOffsetOutOfRange) {
				return fmt.Errorf("%w: %s offset %d is outside [%d, %d]", ErrOffsetOutOfRange, tp, offset, block.LogStartOffset, block.HighWaterMarkOffset)
			}
			failures++
			if !IsRetriable(err) || failures >= maxAttempts {
				return err
			}
			_ = c.sc.RefreshMetadata(tp.Topic)
			if serr := sleep(ctx, backoff); serr != nil {
				return fmt.Errorf("%w (last error: %v)", serr, err)
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		failures, backoff = 0, retryBackoff

		msgs, next := decodeBlock(block, tp, offset, end)
		if len(msgs) > 0 {
			if err := fn(msgs); err != nil {
				return err
			}
		}
		if next > offset {
			offset = next
			continue
		}
		// No progress: nothing was returned at offset.
		switch {
		case block.Partial:
			return fmt.Errorf("kafka: fetch %s at offset %d: record batch larger than %d bytes", tp, offset, maxBytes)
		case offset < block.HighWaterMarkOffset:
			// The log holds no batch in [offset, high watermark): the
			// rest of the range was compacted or aborted away.
			return nil
		default:
			return fmt.Errorf("%w: %s offset %d is at or beyond the high watermark %d (log truncated?)", ErrOffsetOutOfRange, tp, offset, block.HighWaterMarkOffset)
		}
	}
	return nil
}

// fetchOnce sends one Fetch request for tp at offset to the partition leader.
// The returned block is non-nil when err is nil.
func (c *Client) fetchOnce(tp TopicPartition, offset int64, maxBytes int32, iso sarama.IsolationLevel) (*sarama.FetchResponseBlock, error) {
	b, err := c.sc.Leader(tp.Topic, tp.Partition)
	if err != nil {
		return nil, fmt.Errorf("kafka: leader of %s: %w", tp, err)
	}
	req := &sarama.FetchRequest{
		Version:     fetchVersion,
		MaxWaitTime: 100, // ms; only reached if the range end raced a truncation
		MinBytes:    1,
		MaxBytes:    max(maxBytes, requestFetchBytes),
		Isolation:   iso,
		// No fetch session (KIP-227): every request is complete in itself.
		SessionID:    0,
		SessionEpoch: -1,
	}
	req.AddBlock(tp.Topic, tp.Partition, offset, maxBytes, -1)
	resp, err := b.Fetch(req)
	if err != nil {
		_ = b.Close() // sarama reopens it on the next lookup
		return nil, fmt.Errorf("kafka: fetch %s from broker %s: %w", tp, b.Addr(), err)
	}
	if resp.ErrorCode != 0 {
		return nil, fmt.Errorf("kafka: fetch %s: %w", tp, sarama.KError(resp.ErrorCode))
	}
	block := resp.GetBlock(tp.Topic, tp.Partition)
	if block == nil {
		return nil, fmt.Errorf("kafka: fetch %s: %w", tp, sarama.ErrIncompleteResponse)
	}
	return block, nil
}

// decodeBlock returns the records of block with offsets in [from, end) and the
// next offset to fetch. It skips control batches and the records a batch
// holds before from, and handles v2 record batches as well as legacy
// (possibly compressed) message sets.
func decodeBlock(block *sarama.FetchResponseBlock, tp TopicPartition, from, end int64) ([]Message, int64) {
	next := from
	var msgs []Message
	aborted := newAbortedTxns(block.AbortedTransactions)
	for _, rs := range block.RecordsSet {
		if rs == nil {
			continue
		}
		if rb := rs.RecordBatch; rb != nil {
			if aborted.skip(rb) {
				last := rb.FirstOffset + int64(rb.LastOffsetDelta)
				if next = max(next, last+1); next >= end {
					return msgs, end
				}
				continue
			}
			if msgs == nil {
				msgs = make([]Message, 0, estimateRecords(block))
			}
			var done bool
			msgs, next, done = appendBatch(msgs, rb, tp, next, end)
			if done {
				return msgs, end
			}
			continue
		}
		if ms := rs.MsgSet; ms != nil {
			var done bool
			msgs, next, done = appendMessageSet(msgs, ms, tp, next, end)
			if done {
				return msgs, end
			}
		}
	}
	return msgs, next
}

func estimateRecords(block *sarama.FetchResponseBlock) int {
	n := 0
	for _, rs := range block.RecordsSet {
		if rs != nil && rs.RecordBatch != nil {
			n += len(rs.RecordBatch.Records)
		}
	}
	return n
}

func appendBatch(msgs []Message, rb *sarama.RecordBatch, tp TopicPartition, next, end int64) ([]Message, int64, bool) {
	last := rb.FirstOffset + int64(rb.LastOffsetDelta)
	if rb.Control {
		return msgs, max(next, last+1), last+1 >= end
	}
	for _, rec := range rb.Records {
		off := rb.FirstOffset + rec.OffsetDelta
		if off < next {
			continue
		}
		if off >= end {
			return msgs, end, true
		}
		ts := rb.FirstTimestamp.Add(rec.TimestampDelta)
		if rb.LogAppendTime {
			ts = rb.MaxTimestamp
		}
		m := Message{
			Topic:     tp.Topic,
			Partition: tp.Partition,
			Offset:    off,
			Key:       rec.Key,
			Value:     rec.Value,
			Timestamp: ts,
		}
		if len(rec.Headers) > 0 {
			m.Headers = make([]Header, len(rec.Headers))
			for i, h := range rec.Headers {
				m.Headers[i] = Header{Key: string(h.Key), Value: h.Value}
			}
		}
		msgs = append(msgs, m)
		next = off + 1
	}
	// A complete batch accounts for all its offsets, including those
	// compaction removed; a truncated one only for the records decoded.
	if !rb.PartialTrailingRecord {
		next = max(next, last+1)
	}
	return msgs, next, next >= end
}

func appendMessageSet(msgs []Message, ms *sarama.MessageSet, tp TopicPartition, next, end int64) ([]Message, int64, bool) {
	for _, mb := range ms.Messages {
		inner := mb.Messages()
		for _, im := range inner {
			off := im.Offset
			ts := im.Msg.Timestamp
			if im.Msg.Version >= 1 && len(inner) > 0 {
				// Inner offsets of a v1 compressed wrapper are relative;
				// the wrapper carries the last inner offset.
				off += mb.Offset - inner[len(inner)-1].Offset
				if im.Msg.LogAppendTime {
					ts = mb.Msg.Timestamp
				}
			}
			if off < next {
				continue
			}
			if off >= end {
				return msgs, end, true
			}
			msgs = append(msgs, Message{
				Topic:     tp.Topic,
				Partition: tp.Partition,
				Offset:    off,
				Key:       im.Msg.Key,
				Value:     im.Msg.Value,
				Timestamp: ts,
			})
			next = off + 1
		}
		if len(inner) > 0 {
			next = max(next, mb.Offset+1)
		}
	}
	return msgs, next, next >= end
}

// abortedTxns leaves out the batches of aborted transactions from a
// read_committed fetch, as Java's consumer does: the broker lists each
// aborted transaction overlapping the fetch (producer id, first offset);
// a transactional batch of a listed producer at or after that first offset
// is aborted, until the producer's abort marker.
type abortedTxns struct {
	pending []*sarama.AbortedTransaction // by first offset, not yet reached
	active  map[int64]bool               // producer ids inside an aborted transaction
}

func newAbortedTxns(list []*sarama.AbortedTransaction) *abortedTxns {
	if len(list) == 0 {
		return nil
	}
	pending := slices.Clone(list)
	slices.SortFunc(pending, func(a, b *sarama.AbortedTransaction) int { return cmp.Compare(a.FirstOffset, b.FirstOffset) })
	return &abortedTxns{pending: pending, active: map[int64]bool{}}
}

// skip reports whether rb is to be left out: a batch of an aborted
// transaction, or the abort marker that ends one (control batches are left
// out by the caller anyway).
func (a *abortedTxns) skip(rb *sarama.RecordBatch) bool {
	if a == nil || !rb.IsTransactional {
		return false
	}
	last := rb.FirstOffset + int64(rb.LastOffsetDelta)
	for len(a.pending) > 0 && a.pending[0].FirstOffset <= last {
		a.active[a.pending[0].ProducerID] = true
		a.pending = a.pending[1:]
	}
	if !a.active[rb.ProducerID] {
		return false
	}
	if rb.Control {
		if isAbortMarker(rb) {
			delete(a.active, rb.ProducerID)
		}
		return true
	}
	return true
}

// isAbortMarker reports whether a control batch is an abort marker: its
// record's key is (version int16, type int16) with type 0 for abort, 1 for
// commit.
func isAbortMarker(rb *sarama.RecordBatch) bool {
	if len(rb.Records) == 0 {
		return false
	}
	k := rb.Records[0].Key
	return len(k) >= 4 && k[2] == 0 && k[3] == 0
}
