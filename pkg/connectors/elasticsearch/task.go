package elasticsearch

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Class is Confluent's Elasticsearch sink class; SluiceClass is Sluice's
// name for the same connector.
const (
	Class       = "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector"
	SluiceClass = "io.sluice.connect.elasticsearch.ElasticsearchSinkConnector"
	Version     = "1.0"
)

// Plugins returns the connector, under Confluent's class name with
// Sluice's as an alias.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{
		Class: Class, Aliases: []string{SluiceClass}, Kind: connect.KindSink, Version: Version,
		NewConnector: func() connect.Connector { return NewConnector() },
		NewSinkTask:  func() connect.SinkTask { return NewTask() },
	}}
}

// Connector gives every task the connector's configuration. It is not safe
// for concurrent use.
type Connector struct{ props map[string]string }

var (
	_ connect.Connector = (*Connector)(nil)
	_ connect.SinkTask  = (*Task)(nil)
	_ connect.Flusher   = (*Task)(nil)
)

// NewConnector returns a connector.
func NewConnector() *Connector { return &Connector{} }

// Start validates the configuration and keeps it for TaskConfigs.
func (c *Connector) Start(_ context.Context, _ connect.ConnectorContext, props map[string]string) error {
	if _, err := parseSettings(props); err != nil {
		return err
	}
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs returns maxTasks copies of the configuration: the tasks
// share the work by partition.
func (c *Connector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	if c.props == nil {
		return nil, errors.New("ElasticsearchSinkConnector: TaskConfigs called before Start")
	}
	out := make([]map[string]string, max(maxTasks, 1))
	for i := range out {
		out[i] = maps.Clone(c.props)
	}
	return out, nil
}

// Stop does nothing.
func (c *Connector) Stop() error { return nil }

// Config returns Config().
func (c *Connector) Config() *config.Def { return Config() }

// Task writes records to Elasticsearch or OpenSearch with the bulk API.
//
// Put turns each record into an index (or create, update, delete) action
// and starts a bulk request whenever batch.size actions or bulk.size.bytes
// are pending. Up to max.in.flight.requests requests are in flight while
// Put prepares the next batch; Flush sends the rest and returns only when
// the server answered for every document, so the offsets the executor
// commits after Flush cover only written documents. Documents the server
// rejects are errant records (behavior.on.malformed.documents); 429 and
// 5xx answers are retried with backoff, then fail the next Put or Flush as
// retriable, and the documents not written are sent again by the Put or
// Flush after it (or, when the lease fails, the coordinator re-issues the
// same range).
//
// Replays, and requests in flight together, are harmless: with record keys
// as IDs every index and delete carries the record's offset as external
// version, so the server skips a write older than what it holds, whatever
// the order the requests arrive in; with key.ignore the ID is
// topic+partition+offset, and data streams get create operations whose
// repeats conflict. The sink is therefore idempotent, except with
// write.method=UPSERT (which has one request in flight at a time, so that
// a lease's updates apply in order). It is not safe for concurrent use.
type Task struct {
	s        settings
	client   *client
	json     *converter.JSONConverter
	reporter connect.ErrantRecordReporter
	log      *slog.Logger

	puts         uint64 // the Put calls so far
	pending      []*action
	pendingBytes int
	ready        map[string]bool // indices and data streams known to exist

	// Bulk requests in flight, oldest first; their bodies once answered,
	// for reuse; the actions of requests that failed with a retriable
	// error, to send again.
	inflight []*request
	written  map[string]bool // indices a request was answered for
	bodies   [][]byte
	failed   [][]*action
	runCtx   context.Context // the requests', cancelled by Stop
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// NewTask returns a task.
func NewTask() *Task { return &Task{} }

// Start parses the configuration and prepares the HTTP client; it does not
// contact the server yet.
func (t *Task) Start(_ context.Context, tc connect.SinkTaskContext, props map[string]string) error {
	s, err := parseSettings(props)
	if err != nil {
		return err
	}
	t.s = s
	if t.client, err = newClient(s); err != nil {
		return fmt.Errorf("ElasticsearchSinkTask: %w", err)
	}
	t.json = converter.NewJSONConverter()
	if err := t.json.Configure(map[string]string{converter.JSONSchemasEnable: "false"}, false); err != nil {
		return err
	}
	if tc != nil {
		t.reporter = tc.ErrantRecordReporter()
	}
	t.log = slog.Default().With("connector_class", "ElasticsearchSinkConnector")
	t.ready, t.written = map[string]bool{}, map[string]bool{}
	t.runCtx, t.cancel = context.WithCancel(context.Background())
	return nil
}

// Put queues the records' actions and sends full batches. A failure of a
// request sent earlier comes out of a later Put or Flush.
func (t *Task) Put(ctx context.Context, records []connect.SinkRecord) (err error) {
	t.puts++
	defer func() {
		if err != nil && connect.IsRetriable(err) {
			t.forget(t.puts)
		}
	}()
	if err := t.resend(ctx); err != nil {
		return err
	}
	for i := range records {
		r := &records[i]
		a, err := t.action(ctx, r)
		if err != nil {
			if errors.Is(err, ErrInvalidRecord) {
				if err := t.invalid(ctx, r, err); err != nil {
					return err
				}
				continue
			}
			return err
		}
		if a == nil {
			continue
		}
		if len(t.pending) > 0 && t.pendingBytes+a.size() > int(t.s.bulkBytes) {
			if err := t.send(ctx); err != nil {
				return err
			}
		}
		t.pending = append(t.pending, a)
		t.pendingBytes += a.size()
		if len(t.pending) >= t.s.batchSize {
			if err := t.send(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// Flush sends what is pending (and what failed before) and waits for the
// answers to every request in flight.
func (t *Task) Flush(ctx context.Context, _ map[connect.TopicPartition]int64) error {
	if err := t.resend(ctx); err != nil {
		return err
	}
	if err := t.send(ctx); err != nil {
		return err
	}
	var first error
	for len(t.inflight) > 0 {
		if err := t.collect(ctx); err != nil {
			if ctx.Err() != nil {
				return err
			}
			first = cmp.Or(first, err)
		}
	}
	return first
}

// send starts a bulk request with what is pending, after waiting for the
// oldest request in flight when max.in.flight.requests are. Actions not
// sent stay pending.
func (t *Task) send(ctx context.Context) error {
	if len(t.pending) == 0 {
		return nil
	}
	started, err := t.start(ctx, t.pending)
	if started {
		t.pending, t.pendingBytes = nil, 0
	}
	return err
}

// resend starts again the requests whose documents failed with a
// retriable error (sending a document twice is harmless, see Task).
func (t *Task) resend(ctx context.Context) error {
	for len(t.failed) > 0 {
		acts := t.failed[0]
		started, err := t.start(ctx, acts)
		if started {
			t.failed[0] = nil
			t.failed = t.failed[1:]
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// forget drops the actions of Put number put not yet sent, or sent and
// failed: after a retriable error the executor offers that Put's records
// again, and they would go twice.
func (t *Task) forget(put uint64) {
	keep := func(acts []*action) []*action {
		return slices.DeleteFunc(acts, func(a *action) bool { return a.put == put })
	}
	t.pending = keep(t.pending)
	t.pendingBytes = 0
	for _, a := range t.pending {
		t.pendingBytes += a.size()
	}
	for i := range t.failed {
		t.failed[i] = keep(t.failed[i])
	}
	t.failed = slices.DeleteFunc(t.failed, func(acts []*action) bool { return len(acts) == 0 })
}

// start waits for room among the requests in flight, builds acts' bulk
// body and sends it on a goroutine of its own; started tells whether it
// did. The request goes on when ctx (one Put's) ends; Stop cancels it.
//
// The first request to an index this task has not written to yet goes
// alone, and is waited for: were two in flight to an index being created,
// the server could map a field from either, and refuse documents that
// written in order would be accepted.
func (t *Task) start(ctx context.Context, acts []*action) (started bool, err error) {
	alone := slices.ContainsFunc(acts, func(a *action) bool { return !t.written[a.index] })
	for len(t.inflight) >= t.s.maxInFlight || alone && len(t.inflight) > 0 {
		if err := t.collect(ctx); err != nil {
			return false, err
		}
	}
	r := &request{acts: acts, done: make(chan struct{})}
	if n := len(t.bodies); n > 0 {
		r.body, t.bodies = t.bodies[n-1][:0], t.bodies[:n-1]
	}
	for _, a := range acts {
		r.body = a.appendTo(r.body)
	}
	t.inflight = append(t.inflight, r)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer close(r.done)
		r.refused, r.left, r.err = t.bulk(t.runCtx, r.acts, &r.body)
	}()
	if !alone {
		return true, nil
	}
	if err := t.collect(ctx); err != nil {
		return true, err
	}
	for _, a := range acts {
		t.written[a.index] = true
	}
	return true, nil
}

// collect waits for the oldest request in flight and handles its outcome:
// refused documents follow behavior.on.malformed.documents; after a
// retriable error its documents not written are kept to be sent again.
// When ctx ends first the request stays in flight.
func (t *Task) collect(ctx context.Context) error {
	r := t.inflight[0]
	select {
	case <-r.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	t.inflight[0] = nil
	t.inflight = t.inflight[1:]
	t.bodies = append(t.bodies, r.body)
	for _, rj := range r.refused {
		if err := t.reject(ctx, rj.act, rj.err); err != nil {
			return err
		}
	}
	if r.err != nil && connect.IsRetriable(r.err) && len(r.left) > 0 {
		t.failed = append(t.failed, r.left)
	}
	return r.err
}

// Stop cancels the requests in flight and releases the HTTP connections.
// Pending actions not flushed are dropped: their offsets were not
// committed.
func (t *Task) Stop() error {
	if t.cancel != nil {
		t.cancel()
		t.wg.Wait()
	}
	if t.client != nil {
		t.client.close()
	}
	return nil
}

// requestError wraps a failed request: authentication failures and a
// server without data streams need a configuration change, everything
// else may pass.
func (t *Task) requestError(err error) error {
	var he *HTTPError
	if errors.As(err, &he) && (he.Status == 401 || he.Status == 403) {
		return fmt.Errorf("ElasticsearchSinkTask: authentication or authorisation failed: %w", err)
	}
	if errors.Is(err, ErrNoDataStreams) {
		return fmt.Errorf("ElasticsearchSinkTask: %w", err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return connect.Retriable(fmt.Errorf("ElasticsearchSinkTask: %w", err))
}

// reject applies behavior.on.malformed.documents to a rejected document.
func (t *Task) reject(ctx context.Context, a *action, de *DocumentError) error {
	switch t.s.onMalformed {
	case MalformedIgnore:
		t.log.Debug("ignoring a document the server rejected", "error", de.Error())
		return nil
	case MalformedWarn:
		t.log.Warn("skipping a document the server rejected", "topic", a.rec.Topic, "partition", a.rec.KafkaPartition(), "offset", a.rec.Offset, "error", de.Error())
		return nil
	}
	return t.report(ctx, a.rec, de)
}

// invalid handles a record that cannot become a document.
func (t *Task) invalid(ctx context.Context, r *connect.SinkRecord, err error) error {
	if t.s.dropInvalid {
		t.log.Warn("dropping an invalid record", "topic", r.Topic, "partition", r.KafkaPartition(), "offset", r.Offset, "error", err.Error())
		return nil
	}
	// The records before it first, so that errant records are reported in
	// offset order: this is the slow path of bad data only.
	if ferr := t.Flush(ctx, nil); ferr != nil {
		return ferr
	}
	return t.report(ctx, r, err)
}

func (t *Task) report(ctx context.Context, r *connect.SinkRecord, err error) error {
	if t.reporter == nil {
		return fmt.Errorf("ElasticsearchSinkTask: %w", err)
	}
	return t.reporter.Report(ctx, r, err)
}

// action turns a record into its bulk action; nil means skip it.
func (t *Task) action(ctx context.Context, r *connect.SinkRecord) (*action, error) {
	keyIgnore := t.s.keyIgnore || slices.Contains(t.s.topicKeyIgnore, r.Topic)
	// The executor reuses the batch after Put returns, and the action may
	// be sent (and its record reported) by a later Put or Flush: keep a
	// copy of the record.
	rc := *r
	a := &action{rec: &rc, op: "index", put: t.puts}
	if t.s.dsType != "" {
		a.op = "create"
		a.index = t.dataStream(r.Topic)
		a.id = offsetID(r)
		if err := t.ensure(ctx, a.index, nil, true); err != nil {
			return nil, err
		}
	} else {
		a.index = strings.ToLower(r.Topic)
		if keyIgnore {
			a.id = offsetID(r)
		} else {
			id, err := keyID(r.Key)
			if err != nil {
				return nil, err
			}
			a.id = id
		}
		if !t.s.schemaIgnore && !slices.Contains(t.s.topicSchemaIgnore, r.Topic) {
			// A recursive schema (a recursive Avro record's) has no
			// finite mapping; Confluent's connector overflows the stack.
			if err := data.RecursiveError(r.ValueSchema, "an Elasticsearch mapping"); err != nil {
				return nil, fmt.Errorf("%w: %v; set schema.ignore=true to let Elasticsearch map the documents dynamically", ErrInvalidRecord, err)
			}
			if m := mapping(r.ValueSchema); m != nil {
				if err := t.ensure(ctx, a.index, m, false); err != nil {
					return nil, err
				}
			}
		}
	}
	if r.Value == nil {
		switch {
		case t.s.onNull == NullIgnore:
			return nil, nil
		case t.s.onNull == NullDelete && t.s.dsType == "":
			a.op = "delete"
		default:
			return nil, fmt.Errorf("%w: the record has a null value and behavior.on.null.values is %s", ErrInvalidRecord, t.s.onNull)
		}
	} else {
		doc, err := t.document(r)
		if err != nil {
			return nil, err
		}
		a.doc = doc
		if t.s.upsert {
			a.op = "update"
		}
	}
	if !keyIgnore && t.s.dsType == "" && a.op != "update" {
		v, err := t.version(r)
		if err != nil {
			return nil, err
		}
		a.version, a.versioned = v, true
	}
	return a, nil
}

// ensure creates an index with a mapping, or a data stream, once per task.
func (t *Task) ensure(ctx context.Context, name string, m map[string]any, stream bool) error {
	if t.ready[name] {
		return nil
	}
	var err error
	if stream {
		err = t.client.ensureDataStream(ctx, name)
	} else {
		err = t.client.ensureIndex(ctx, name, m)
	}
	if err != nil {
		return t.requestError(fmt.Errorf("preparing %s: %w", name, err))
	}
	t.ready[name] = true
	return nil
}

func (t *Task) dataStream(topic string) string {
	sub := func(s string) string { return strings.ReplaceAll(s, "${topic}", topic) }
	return strings.ToLower(t.s.dsType + "-" + sub(t.s.dsDataset) + "-" + sub(t.s.dsNamespace))
}

func offsetID(r *connect.SinkRecord) string {
	return r.Topic + "+" + strconv.Itoa(int(r.KafkaPartition())) + "+" + strconv.FormatInt(r.Offset, 10)
}

// keyID renders a record key as a document ID: strings and integers only,
// as Confluent's connector accepts.
func keyID(key any) (string, error) {
	switch k := key.(type) {
	case nil:
		return "", fmt.Errorf("%w: the key is used as document ID and cannot be null (set key.ignore=true to use topic+partition+offset)", ErrInvalidRecord)
	case string:
		return k, nil
	case []byte:
		return string(k), nil
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64:
		return fmt.Sprint(k), nil
	}
	return "", fmt.Errorf("%w: a key of type %T cannot be a document ID (only strings and integers can; set key.ignore=true)", ErrInvalidRecord, key)
}

// version is the record's external version: external.version.header's
// value, or the offset.
func (t *Task) version(r *connect.SinkRecord) (int64, error) {
	if t.s.versionHeader == "" {
		return r.Offset, nil
	}
	h, ok := r.Headers.LastWithName(t.s.versionHeader)
	if !ok {
		return 0, fmt.Errorf("%w: the record has no %s header (external.version.header)", ErrInvalidRecord, t.s.versionHeader)
	}
	switch v := h.Value.(type) {
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int8:
		return int64(v), nil
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return n, nil
		}
	case []byte:
		if n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%w: header %s is not a long: %v", ErrInvalidRecord, t.s.versionHeader, h.Value)
}

// document renders the record's value as a JSON object. String and bytes
// values are taken as JSON text, and checked; other values go through the
// JSON converter without schemas, whose output is valid JSON already (only
// whether it is an object is checked).
func (t *Task) document(r *connect.SinkRecord) ([]byte, error) {
	var doc []byte
	valid := false
	switch v := r.Value.(type) {
	case string:
		doc = []byte(v)
	case []byte:
		doc = bytes.Clone(v) // the record's bytes may be reused after Put
	default:
		b, err := t.json.FromConnectData(r.Topic, r.ValueSchema, r.Value)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidRecord, err)
		}
		doc, valid = b, true
	}
	if b := trimSpace(doc); len(b) == 0 || b[0] != '{' || !valid && !json.Valid(b) {
		return nil, fmt.Errorf("%w: the value is not a JSON object: %s", ErrInvalidRecord, preview(doc))
	}
	if t.s.dsType != "" {
		return t.withTimestamp(doc, r)
	}
	return doc, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\n' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

func preview(b []byte) string {
	if len(b) > 80 {
		return strconv.Quote(string(b[:80])) + "…"
	}
	return strconv.Quote(string(b))
}

// withTimestamp adds @timestamp to a data stream document that lacks it:
// from the first data.stream.timestamp.field present, else the record's
// timestamp.
func (t *Task) withTimestamp(doc []byte, r *connect.SinkRecord) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(doc, &fields); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRecord, err)
	}
	if _, ok := fields["@timestamp"]; ok {
		return doc, nil
	}
	var ts json.RawMessage
	for _, f := range t.s.dsTimestamp {
		if v, ok := fields[f]; ok {
			ts = v
			break
		}
	}
	if ts == nil {
		when := r.Timestamp
		if when.IsZero() {
			when = time.Now()
		}
		ts, _ = json.Marshal(when.UTC().Format(time.RFC3339Nano))
	}
	fields["@timestamp"] = ts
	return json.Marshal(fields)
}
