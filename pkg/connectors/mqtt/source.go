package mqtt

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// SourceClass is Confluent's MQTT source connector class; SluiceSourceClass
// is Sluice's name for the same connector.
const (
	SourceClass       = "io.confluent.connect.mqtt.MqttSourceConnector"
	SluiceSourceClass = "io.sluice.connect.mqtt.MqttSourceConnector"
)

// The headers a source record carries, with the MQTT message's properties.
const (
	HeaderMessageID = "mqtt.message.id"
	HeaderQoS       = "mqtt.qos"
	HeaderRetained  = "mqtt.retained"
	HeaderDuplicate = "mqtt.duplicate"
)

// seqField is the position key (connect.SourceRecord.PositionKey; never
// stored, as the records have no source partition) whose position numbers
// the records of one lease, so that CommitRecord knows which messages to
// ack.
const seqField = "mqtt.seq"

// SourceConnector divides the topic filters among the tasks and gives each
// task its client id. It is not safe for concurrent use.
type SourceConnector struct {
	props map[string]string
}

var (
	_ connect.Connector             = (*SourceConnector)(nil)
	_ connect.SourceTask            = (*SourceTask)(nil)
	_ connect.SourceRecordCommitter = (*SourceTask)(nil)
	_ connect.SourceCommitter       = (*SourceTask)(nil)

	_ connect.StreamingRecordCommitter = (*SourceTask)(nil)
)

// NewSourceConnector returns a source connector.
func NewSourceConnector() *SourceConnector { return &SourceConnector{} }

// Start validates the configuration and keeps it for TaskConfigs.
func (c *SourceConnector) Start(_ context.Context, _ connect.ConnectorContext, props map[string]string) error {
	if _, err := SourceConfig().Parse(props); err != nil {
		return err
	}
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs deals the topic filters round robin to at most maxTasks
// tasks (never more tasks than filters), as Confluent's connector does, and
// gives task n the client id <prefix>-<n>. Changing the filters or the task
// count later changes which session a filter lives in: messages queued in
// the old session are then not read.
func (c *SourceConnector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	if c.props == nil {
		return nil, errors.New("MqttSourceConnector: TaskConfigs called before Start")
	}
	vals, err := SourceConfig().Parse(c.props)
	if err != nil {
		return nil, err
	}
	filters := vals.List(TopicsConfig)
	n := min(max(maxTasks, 1), len(filters))
	groups := make([][]string, n)
	for i, f := range filters {
		groups[i%n] = append(groups[i%n], f)
	}
	prefix := clientIDPrefix(vals, c.props)
	configs := make([]map[string]string, n)
	for i := range configs {
		tc := maps.Clone(c.props)
		tc[TopicsConfig] = joinList(groups[i])
		tc[ClientIDConfig] = prefix + "-" + strconv.Itoa(i)
		tc[taskClientIDConfig] = "true"
		configs[i] = tc
	}
	return configs, nil
}

// taskClientIDConfig marks a task configuration whose mqtt.client.id is
// the task's full client id rather than a prefix.
const taskClientIDConfig = "mqtt.client.id.per.task"

func clientIDPrefix(vals *config.Values, props map[string]string) string {
	if p := vals.String(ClientIDConfig); p != "" {
		return p
	}
	return "sluice-" + props["name"]
}

func joinList(l []string) string {
	out := ""
	for i, s := range l {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

// Stop does nothing.
func (c *SourceConnector) Stop() error { return nil }

// Config returns SourceConfig().
func (c *SourceConnector) Config() *config.Def { return SourceConfig() }

// SourceTask reads MQTT messages within one lease: Start connects with the
// task's client id (resuming its persistent session unless
// mqtt.clean.session.enabled) and subscribes; Poll hands over what the
// broker queued and what arrives; CommitRecord, called by the executor
// after Kafka acknowledged a record and the lease's offsets were written,
// acknowledges its message and every earlier one (PUBACK for QoS 1, PUBREC
// for QoS 2, in the order received as MQTT requires); Commit confirms the
// broker read them; Stop disconnects, leaving every message not
// acknowledged to the broker, which sends it again to the next lease.
//
// With mqtt.connection.keep.alive.between.leases (long-lived workers) Stop
// of a lease that committed parks the connection in the process instead,
// with the messages not acknowledged, and the task's next lease in the same
// process takes it over.
//
// The records carry no source offsets (the broker's session is the
// position), so the executor calls CommitRecord while the lease polls
// (connect.StreamingRecordCommitter), as soon as Kafka acked a record:
// the broker's window of unacknowledged messages keeps moving and a lease
// is not limited to one window. Poll and CommitRecord may run on two
// goroutines at once; messages arrive on paho's.
type SourceTask struct {
	kafkaTopic string
	batchSize  int
	sess       session
	filters    []string
	keep       bool
	conn       *connection

	// mu guards what Poll and CommitRecord share: polled, acked, base,
	// next and unconfirmed.
	mu sync.Mutex
	// polled are the messages handed out by Poll, in order; the first
	// acked of them are acknowledged, polled[acked] has sequence number
	// base. CommitRecord moves the rest to the front once they are at
	// most half, so that the slice's array is reused rather than grown.
	polled []paho.Message
	acked  int
	base   int64
	next   int64
	// unconfirmed: acknowledgements were handed to paho since the last
	// barrier (Commit); committed: Commit ran in this lease.
	unconfirmed bool
	committed   bool
	// subscribing is the SUBSCRIBE sent by Start, until its answer is checked.
	subscribing paho.Token
}

// connection is a connected client and what it received and did not hand
// out yet. Its handlers write to it on paho's goroutines.
type connection struct {
	client  paho.Client
	key     string        // the settings it was made with, for reuse
	quiesce time.Duration // how long closing may take
	// transport is the connection client reads and writes through, which
	// acknowledgements are written to (ack).
	transport atomic.Pointer[bufferedConn]

	mu      sync.Mutex
	arrived []paho.Message // received, not yet polled
	lost    error          // set when the connection dropped
	wake    chan struct{}  // signalled when a message arrives
	// room is signalled when arrived shrinks or the mode below changes.
	room *sync.Cond
	// mode says what onMessage does when arrived holds maxArrived
	// messages: wait for Poll (holding, the default: paho then stops
	// reading and the broker's sending waits on TCP), append anyway
	// (unbounded, while Commit waits for the broker's answer behind
	// them), or drop every message (discarding: the lease polls no more
	// and the connection is closed after, so the broker sends each
	// dropped message, unacknowledged, again to the next lease).
	mode arrivalMode
}

type arrivalMode int

const (
	holding arrivalMode = iota
	unbounded
	discarding
)

// maxArrived bounds the messages a connection holds for Poll. A broker
// that does not keep to its in-flight window (Mosquitto 2.0's, once
// messages are acknowledged) would otherwise hand a deep backlog over
// into memory at once.
const maxArrived = 16384

func newConnection(key string, quiesce time.Duration) *connection {
	c := &connection{key: key, quiesce: quiesce, wake: make(chan struct{}, 1)}
	c.room = sync.NewCond(&c.mu)
	return c
}

func (c *connection) onMessage(_ paho.Client, m paho.Message) {
	c.mu.Lock()
	for c.mode == holding && c.lost == nil && len(c.arrived) >= maxArrived {
		c.room.Wait()
	}
	if c.mode != discarding && c.lost == nil {
		c.arrived = append(c.arrived, m)
	}
	c.mu.Unlock()
	c.signal()
}

// ack acknowledges m to the broker: PUBACK for QoS 1, PUBREC for QoS 2
// (the broker's PUBREL is answered by paho), nothing for QoS 0. The packet
// is written straight to the transport, behind those acknowledged before
// and ahead of any packet paho sends afterwards (the barrier, DISCONNECT).
// An acknowledgement that cannot be written (the connection dropped) is
// lost, as with paho's Ack: the broker sends the message again.
func (c *connection) ack(m paho.Message) {
	var packetType byte
	switch m.Qos() {
	case 1:
		packetType = packets.Puback
	case 2:
		packetType = packets.Pubrec
	default:
		return
	}
	if tr := c.transport.Load(); tr != nil {
		_ = tr.writeAck(packetType, m.MessageID())
		return
	}
	m.Ack()
}

func (c *connection) onLost(err error) {
	c.mu.Lock()
	c.lost = err
	c.room.Broadcast()
	c.mu.Unlock()
	c.signal()
}

// setMode changes what onMessage does with a full arrived; discarding
// also drops what arrived and was not polled.
func (c *connection) setMode(m arrivalMode) {
	c.mu.Lock()
	c.mode = m
	if m == discarding {
		clear(c.arrived)
		c.arrived = nil
	}
	c.room.Broadcast()
	c.mu.Unlock()
}

// close drops what arrives from now on and disconnects, after the broker
// read the acknowledgements sent before (bufferedConn.Close) unless that
// takes longer than quiesce.
func (c *connection) close() {
	c.setMode(discarding)
	disconnect(c.client, c.quiesce)
}

func (c *connection) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *connection) healthy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lost == nil && c.client.IsConnectionOpen()
}

// parked holds source connections between the leases of long-lived
// workers, by client id.
var parked sync.Map

// NewSourceTask returns a source task.
func NewSourceTask() *SourceTask { return &SourceTask{} }

// Start connects and subscribes, or takes over the connection the task's
// previous lease parked. Failing to connect (unreachable broker, bad
// credentials, refused client id) or a refused subscription fails the
// lease with the broker's reason.
func (t *SourceTask) Start(ctx context.Context, _ connect.SourceTaskContext, props map[string]string) error {
	vals, err := SourceConfig().Parse(props)
	if err != nil {
		return err
	}
	clientID := vals.String(ClientIDConfig)
	if props[taskClientIDConfig] != "true" {
		clientID = clientIDPrefix(vals, props) + "-0"
	}
	t.sess, err = newSession(vals, clientID)
	if err != nil {
		return fmt.Errorf("MqttSourceTask: %w", err)
	}
	t.kafkaTopic = vals.String(KafkaTopicConfig)
	t.batchSize = vals.Int(BatchSizeConfig)
	t.filters = vals.List(TopicsConfig)
	t.keep = vals.Bool(KeepConnectedConfig)
	key := t.sess.key() + "|" + strings.Join(t.filters, ",")
	if v, ok := parked.LoadAndDelete(clientID); ok {
		c := v.(*connection)
		if c.key == key && c.healthy() {
			t.conn = c
			return nil
		}
		c.close()
	}
	c := newConnection(key, t.sess.connectTimeout)
	var resumed bool
	c.client, resumed, err = t.sess.connect(ctx, c.onMessage, c.onLost, c.transport.Store)
	if err != nil {
		return fmt.Errorf("MqttSourceTask: %w", err)
	}
	t.conn = c
	// The subscriptions are renewed every lease (the filters or QoS may
	// have changed). A resumed session has them already and its queued
	// messages arrive ahead of the SUBACK, which a large backlog delays:
	// then the answer is checked at Commit rather than waited for here.
	t.subscribing = subscribe(c.client, t.filters, t.sess.qos)
	if !resumed {
		return t.subscribed(ctx)
	}
	return nil
}

// subscribed waits for the SUBSCRIBE sent by Start, once.
func (t *SourceTask) subscribed(ctx context.Context) error {
	if t.subscribing == nil {
		return nil
	}
	err := granted(ctx, t.subscribing, t.filters, t.sess.connectTimeout)
	t.subscribing = nil
	if err != nil {
		return fmt.Errorf("MqttSourceTask: %w", err)
	}
	return nil
}

// pollWait is how long Poll waits for a message when none is there.
const pollWait = 50 * time.Millisecond

// Poll returns up to mqtt.batch.size messages received so far, waiting
// briefly when there are none. After the connection dropped it returns
// what was received before, then ErrConnectionLost.
func (t *SourceTask) Poll(ctx context.Context) ([]connect.SourceRecord, error) {
	msgs, lost := t.take()
	if len(msgs) == 0 && lost == nil {
		timer := time.NewTimer(pollWait)
		select {
		case <-t.conn.wake:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
		msgs, lost = t.take()
	}
	if len(msgs) == 0 {
		if lost != nil {
			return nil, connect.Retriable(fmt.Errorf("MqttSourceTask: %w: %v", ErrConnectionLost, lost))
		}
		return nil, nil
	}
	now := time.Now()
	recs := make([]connect.SourceRecord, len(msgs))
	// One allocation for the whole batch's headers rather than one per
	// record; each record's are capped at their four.
	headers := make(connect.Headers, 0, 4*len(msgs))
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, m := range msgs {
		h := headers[len(headers) : len(headers) : len(headers)+4]
		headers = headers[:len(headers)+4]
		h.Add(HeaderMessageID, data.Int32Schema, int32(m.MessageID()))
		h.Add(HeaderQoS, data.Int32Schema, int32(m.Qos()))
		h.Add(HeaderRetained, data.BooleanSchema, m.Retained())
		h.Add(HeaderDuplicate, data.BooleanSchema, m.Duplicate())
		recs[i] = connect.SourceRecord{
			Record: connect.Record{
				Topic:     t.kafkaTopic,
				KeySchema: data.StringSchema, Key: m.Topic(),
				ValueSchema: data.BytesSchema, Value: m.Payload(),
				Timestamp: now,
				Headers:   h,
			},
			// The sequence number as a position: no map per record.
			PositionKey: seqField, Position: t.next,
		}
		t.polled = append(t.polled, m)
		t.next++
	}
	return recs, nil
}

func (t *SourceTask) take() ([]paho.Message, error) {
	c := t.conn
	c.mu.Lock()
	defer c.mu.Unlock()
	n := min(len(c.arrived), t.batchSize)
	msgs := c.arrived[:n:n]
	c.arrived = c.arrived[n:]
	if n > 0 {
		c.room.Broadcast()
	}
	return msgs, c.lost
}

// CommitRecord acknowledges the record's message and every message polled
// before it. The executor calls it only for records Kafka acknowledged,
// after the lease's offsets were written, in the order they were produced;
// acknowledging the earlier ones too covers the records a transformation
// dropped. Messages after the last record produced stay unacknowledged and
// come again in the next lease.
func (t *SourceTask) CommitRecord(_ context.Context, r *connect.SourceRecord, _ connect.TopicPartition, _ int64) error {
	if r.PositionKey != seqField {
		return fmt.Errorf("MqttSourceTask: record without its %s", seqField)
	}
	seq := r.Position
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.base <= seq && t.acked < len(t.polled) {
		m := t.polled[t.acked]
		t.conn.ack(m)
		t.unconfirmed = t.unconfirmed || m.Qos() > 0
		t.polled[t.acked] = nil
		t.acked++
		t.base++
	}
	if t.acked > 0 && t.acked >= len(t.polled)-t.acked {
		n := copy(t.polled, t.polled[t.acked:])
		clear(t.polled[n:])
		t.polled = t.polled[:n]
		t.acked = 0
	}
	return nil
}

// CommitsRecordsWhilePolling reports true: CommitRecord only acknowledges
// messages, which the broker's session, not Kafka, keeps track of.
func (t *SourceTask) CommitsRecordsWhilePolling() bool { return true }

// Commit checks the subscription renewed by Start and, over WebSockets,
// waits until the broker has processed the acknowledgements sent by
// CommitRecord. paho writes acknowledgements and control packets in the
// order they were handed to it and the broker processes a connection's
// packets in order, so the answer to an UNSUBSCRIBE sent after them (of a
// filter the session never subscribed to) proves they arrived. Without
// this barrier a connection closed while the broker still sends (PUBRELs
// of QoS 2, new messages) may be reset, and the broker may drop the last
// acknowledgements it had not read yet: their messages would come again.
// Over TCP and TLS, closing the connection does the same without the
// round trip (bufferedConn.Close: the broker closes its side only after
// it processed the DISCONNECT, sent after the acknowledgements); the
// barrier's answer would come after every message the broker sent before
// it, which with Mosquitto 2.0 can be the whole backlog.
func (t *SourceTask) Commit(ctx context.Context) error {
	// Polling has ended. The broker's answers come after what it sent
	// before them: let those messages in, or drop them unless the
	// connection is kept for the next lease.
	if t.conn != nil {
		if t.keep {
			t.conn.setMode(unbounded)
			defer t.conn.setMode(holding)
		} else {
			t.conn.setMode(discarding)
		}
	}
	if err := t.subscribed(ctx); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.unconfirmed && t.conn != nil && !halfCloses(t.sess.uris) {
		if err := wait(ctx, t.conn.client.Unsubscribe(barrierTopic+t.sess.clientID), t.sess.connectTimeout); err != nil {
			// The records are in Kafka; acknowledgements the broker did not
			// read mean duplicates in the next lease, never loss.
			return connect.Retriable(fmt.Errorf("MqttSourceTask: confirming acknowledgements: %w", err))
		}
		t.unconfirmed = false
	}
	t.committed = true
	return nil
}

// barrierTopic prefixes the filter Commit unsubscribes from.
const barrierTopic = "sluice/ack-barrier/"

// Stop disconnects, after the acknowledgements sent so far. The session
// (and with it every message not acknowledged) stays at the broker unless
// mqtt.clean.session.enabled. With mqtt.connection.keep.alive.between.leases,
// a lease that committed parks its connection instead: the messages it
// polled but did not acknowledge go back in front of those not polled, for
// the next lease.
func (t *SourceTask) Stop() error {
	c := t.conn
	t.conn = nil
	if c == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keep && t.committed && c.healthy() {
		c.mu.Lock()
		rest := t.polled[t.acked:]
		c.arrived = append(rest[:len(rest):len(rest)], c.arrived...)
		c.mu.Unlock()
		t.polled, t.acked = nil, 0
		if old, loaded := parked.Swap(t.sess.clientID, c); loaded {
			old.(*connection).close()
		}
		return nil
	}
	c.close()
	return nil
}
