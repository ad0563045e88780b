package sink

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/storage"
)

// partitionWriter writes the records of one Kafka partition (by original
// coordinates) into its open files. Every decision it makes depends only
// on the partition's records and the configuration.
type partitionWriter struct {
	t     *Task
	tp    connect.TopicPartition
	files map[string]*file
	// tick orders writes, for choosing the least recently written file.
	tick uint64
	// next is the original offset after the last record put, -1 before any.
	next int64
	// nextSchedule is when rotate.schedule.interval.ms next commits all
	// files (wall clock, milliseconds), 0 before the first record.
	nextSchedule int64
	last         lastDir
}

// lastDir is the directory and file id of the last record put, for
// partitionWriter.dirAndID.
type lastDir struct {
	topic, encoded, dir, id string
	partition               int32
}

// file is one open output file: the value object and, when enabled, the
// keys and headers objects beside it.
type file struct {
	id        string
	start     int64
	baseTime  int64
	hasBase   bool
	count     int
	lastWrite uint64
	// valueSchema and keySchema are those of the file's first record.
	valueSchema, keySchema *data.Schema
	tombstones             bool
	objects                []*object // value (unless tombstones), keys, headers
}

// object is one object being written.
type object struct {
	key  string
	view view
	ow   storage.ObjectWriter
	w    *trackingWriter
	rw   storage.RecordWriter
}

type view int

const (
	valueView view = iota
	keyView
	headerView
)

// trackingWriter remembers the store's write error, to tell a store failure
// from an encoding failure when a RecordWriter's Write fails.
type trackingWriter struct {
	w   io.Writer
	err error
}

func (tw *trackingWriter) Write(p []byte) (int, error) {
	n, err := tw.w.Write(p)
	if err != nil && tw.err == nil {
		tw.err = err
	}
	return n, err
}

func (pw *partitionWriter) recordError(r *connect.SinkRecord, err error) error {
	return &RecordError{Topic: r.Topic, Partition: r.KafkaPartition(), Offset: r.Offset, Err: err}
}

func (pw *partitionWriter) put(ctx context.Context, r *connect.SinkRecord) error {
	s := pw.t.s
	if pw.next >= 0 && r.OriginalOffset < pw.next {
		// Offered again (the executor retried a batch): already written.
		return nil
	}
	if s.scheduleMs > 0 {
		if err := pw.scheduledRotation(ctx); err != nil {
			return err
		}
	}
	tombstone := false
	if r.Value == nil {
		switch s.nullBehavior {
		case NullIgnore:
			pw.t.log.Debug("null valued record skipped", "topic", r.Topic, "partition", r.KafkaPartition(), "offset", r.Offset)
			pw.next = r.OriginalOffset + 1
			return nil
		case NullWrite:
			tombstone = true
		default:
			return pw.recordError(r, ErrNullValue)
		}
	}
	if s.storeKeys && r.Key == nil {
		return pw.recordError(r, ErrNullKey)
	}
	if s.storeHeaders && len(r.Headers) == 0 {
		return pw.recordError(r, ErrNoHeaders)
	}

	var encoded string
	if tombstone {
		encoded = s.tombstone
	} else {
		e, err := pw.t.partitioner.Encode(r)
		if err != nil {
			return pw.recordError(r, err)
		}
		encoded = e
	}
	var ts int64
	hasTS := false
	if s.rotateIntervalMs > 0 {
		if v, err := s.rotationTime.Extract(r, pw.t.opts.Now()); err == nil {
			ts, hasTS = v, true
		}
	}
	dir, id := pw.dirAndID(r.Topic, encoded, r.KafkaPartition())

	f := pw.files[id]
	if f != nil && !f.tombstones && !tombstone {
		change, err := s.compat.change(f.valueSchema, r.ValueSchema)
		if err != nil {
			return pw.recordError(r, err)
		}
		if !change {
			projected, err := s.compat.project(r, f.valueSchema)
			if err != nil {
				return pw.recordError(r, err)
			}
			r = projected
		}
	}
	if f != nil && pw.mustRotate(f, r, ts, hasTS) {
		if err := pw.commit(ctx, f); err != nil {
			return err
		}
		f = nil
	}
	if f == nil {
		var err error
		if f, err = pw.open(ctx, id, dir, r, tombstone); err != nil {
			return err
		}
	}
	err := pw.write(f, r)
	if err != nil && f.count > 0 && pw.t.opts.IsSchemaChange != nil && pw.t.opts.IsSchemaChange(err) {
		// A schemaless format's inferred schema does not fit this record:
		// commit the file and start a new one with it, as a schema change
		// of a schema'd record does.
		if err := pw.commit(ctx, f); err != nil {
			return err
		}
		if f, err = pw.open(ctx, id, dir, r, tombstone); err != nil {
			return err
		}
		err = pw.write(f, r)
	}
	if err != nil {
		return err
	}
	if hasTS && !f.hasBase {
		f.baseTime, f.hasBase = ts, true
	}
	f.count++
	pw.tick++
	f.lastWrite = pw.tick
	pw.next = r.OriginalOffset + 1
	if f.count >= s.flushSize {
		return pw.commit(ctx, f)
	}
	return nil
}

// dirAndID returns the directory of a record of topic and partition with
// the partitioner's encoding, and the id of its file: the last record's,
// without building them again, when they are the same.
func (pw *partitionWriter) dirAndID(topic, encoded string, partition int32) (dir, id string) {
	l := &pw.last
	if l.dir != "" && l.topic == topic && l.encoded == encoded && l.partition == partition {
		return l.dir, l.id
	}
	dir = pw.t.partitioner.Path(topic, encoded)
	id = dir + "\x00" + strconv.Itoa(int(partition))
	*l = lastDir{topic: topic, encoded: encoded, partition: partition, dir: dir, id: id}
	return dir, id
}

// mustRotate reports whether f must be committed before r is written to
// it: its value (or key) schema differs from the file's, or r's time is
// rotate.interval.ms or more past the file's first record's.
func (pw *partitionWriter) mustRotate(f *file, r *connect.SinkRecord, ts int64, hasTS bool) bool {
	if !f.tombstones && !data.Equal(f.valueSchema, r.ValueSchema) {
		return true
	}
	if pw.t.s.storeKeys && !data.Equal(f.keySchema, r.KeySchema) {
		return true
	}
	return hasTS && f.hasBase && ts-f.baseTime >= pw.t.s.rotateIntervalMs
}

// open starts a file for r, first committing the least recently written
// file when the partition already has sluice.max.open.files open.
func (pw *partitionWriter) open(ctx context.Context, id, dir string, r *connect.SinkRecord, tombstone bool) (*file, error) {
	t := pw.t
	for len(pw.files) >= t.s.maxOpen {
		var lru *file
		for _, f := range pw.files {
			if lru == nil || f.lastWrite < lru.lastWrite {
				lru = f
			}
		}
		if err := pw.commit(ctx, lru); err != nil {
			return nil, err
		}
	}
	base := t.s.topicsDir
	if strings.TrimSpace(base) != "" {
		base += t.s.dirDelim
	}
	base += dir + t.s.dirDelim + r.Topic + t.s.fileDelim + strconv.Itoa(int(r.KafkaPartition())) + t.s.fileDelim +
		fmt.Sprintf("%0*d", t.s.padWidth, r.Offset)
	f := &file{id: id, start: r.Offset, valueSchema: r.ValueSchema, keySchema: r.KeySchema, tombstones: tombstone}
	pw.files[id] = f
	type spec struct {
		v      view
		format storage.Format
		suffix string
		schema *data.Schema
	}
	var specs []spec
	if !tombstone {
		specs = append(specs, spec{valueView, t.value, "", r.ValueSchema})
	}
	if t.s.storeKeys {
		specs = append(specs, spec{keyView, t.keys, ".keys", t.keyViewSchema(r.KeySchema)})
	}
	if t.s.storeHeaders {
		specs = append(specs, spec{headerView, t.headers, ".headers", headerViewSchema(t.envelopeHdrs)})
	}
	for _, sp := range specs {
		key := base + sp.suffix + sp.format.Extension()
		ow, err := t.store.Create(ctx, key)
		if err != nil {
			return nil, &StoreError{Key: key, Op: "create", Err: err}
		}
		o := &object{key: key, view: sp.v, ow: ow, w: &trackingWriter{w: ow}}
		f.objects = append(f.objects, o)
		if o.rw, err = sp.format.NewWriter(o.w, sp.schema); err != nil {
			if o.w.err != nil {
				return nil, &StoreError{Key: key, Op: "write", Err: err}
			}
			return nil, pw.recordError(r, err)
		}
	}
	return f, nil
}

// write writes r to each of f's objects, each its own view of r.
func (pw *partitionWriter) write(f *file, r *connect.SinkRecord) error {
	for _, o := range f.objects {
		rec := r
		switch o.view {
		case keyView:
			rec = pw.t.keyRecord(r)
		case headerView:
			rec = headerRecord(r, pw.t.envelopeHdrs)
		}
		if err := o.rw.Write(rec); err != nil {
			if o.w.err != nil {
				return &StoreError{Key: o.key, Op: "write", Err: err}
			}
			return pw.recordError(r, err)
		}
	}
	return nil
}

// commit finishes f's objects (format trailer, then the store's commit) in
// the order value, keys, headers, and forgets f. On failure the objects not
// yet committed are aborted.
func (pw *partitionWriter) commit(ctx context.Context, f *file) error {
	delete(pw.files, f.id)
	for i, o := range f.objects {
		err := o.rw.Close()
		op := "close"
		if err == nil {
			op = "commit"
			err = o.ow.Commit(ctx)
		}
		if err != nil {
			for _, rest := range f.objects[i:] {
				_ = rest.ow.Abort(context.WithoutCancel(ctx))
			}
			return &StoreError{Key: o.key, Op: op, Err: err}
		}
	}
	pw.t.log.Debug("committed file", "key", f.objects[0].key, "records", f.count)
	return nil
}

// commitAll commits the open files, least recently written first.
func (pw *partitionWriter) commitAll(ctx context.Context) error {
	files := make([]*file, 0, len(pw.files))
	for _, f := range pw.files {
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b *file) int { return cmp.Compare(a.lastWrite, b.lastWrite) })
	for _, f := range files {
		if err := pw.commit(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

func (pw *partitionWriter) abortAll() {
	for id, f := range pw.files {
		for _, o := range f.objects {
			_ = o.ow.Abort(context.Background())
		}
		delete(pw.files, id)
	}
}

// scheduledRotation commits every open file of the partition when the wall
// clock passes the next rotate.schedule.interval.ms boundary (Confluent's
// DateTimeUtils.getNextTimeAdjustedByDay). It is not deterministic.
func (pw *partitionWriter) scheduledRotation(ctx context.Context) error {
	now := pw.t.opts.Now()
	if pw.nextSchedule == 0 {
		pw.nextSchedule = nextScheduled(now, pw.t.s.scheduleMs, pw.t.s.scheduleLoc)
		return nil
	}
	if now.UnixMilli() < pw.nextSchedule {
		return nil
	}
	pw.nextSchedule = nextScheduled(now, pw.t.s.scheduleMs, pw.t.s.scheduleLoc)
	return pw.commitAll(ctx)
}

func nextScheduled(now time.Time, periodMs int64, loc *time.Location) int64 {
	if loc == nil {
		loc = time.UTC
	}
	local := now.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	nextDay := day.AddDate(0, 0, 1).UnixMilli()
	start := day.UnixMilli()
	next := start + ((now.UnixMilli()-start)/periodMs+1)*periodMs
	return min(next, nextDay)
}
