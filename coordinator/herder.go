package coordinator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/sluicehq/sluice/pkg/offsets"
)

var (
	_ rest.Herder        = (*Coordinator)(nil)
	_ rest.HealthChecker = (*Coordinator)(nil)
)

// Leader says where writes go: this coordinator when it leads, else the
// elected leader's URL ("" while none is known). With an election, whether
// this coordinator leads is the election's answer alone; a leader URL equal
// to this coordinator's own while the election says it does not lead (its
// group session is starting or ending) is no leader yet, never another
// coordinator to forward to.
func (c *Coordinator) Leader() (string, bool) {
	if c.d.Election == nil {
		return c.cfg.RestAdvertisedURL, true
	}
	url, self, err := c.d.Election.Leader()
	switch {
	case err != nil:
		return "", false
	case self:
		return c.cfg.RestAdvertisedURL, true
	case url == c.cfg.RestAdvertisedURL:
		return "", false
	}
	return url, false
}

// requireLeader returns NotLeaderError on a follower: the REST layer then
// forwards the request.
func (c *Coordinator) requireLeader() error {
	if url, self := c.Leader(); !self {
		return &rest.NotLeaderError{LeaderURL: url}
	}
	return nil
}

// KafkaClusterID is the Kafka cluster's id (GET /). It never changes, so it
// is asked once (a metadata request) and remembered.
func (c *Coordinator) KafkaClusterID(ctx context.Context) (string, error) {
	if c.d.Kafka == nil {
		return "", nil
	}
	c.mu.Lock()
	id := c.clusterID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	id, err := c.d.Kafka.ClusterID(ctx)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.clusterID = id
	c.mu.Unlock()
	return id, nil
}

// Connectors lists the connectors' names, sorted (by the store). Calls
// share one list until the configurations change (a copy of 1,000 names
// per GET /connectors was most of what REST reads allocated), so it must
// not be modified, as rest.Herder says.
func (c *Coordinator) Connectors(context.Context) ([]string, error) {
	gen := c.d.Configs.Generation() // before Names: a list is never older than its generation
	c.namesMu.Lock()
	defer c.namesMu.Unlock()
	if c.names == nil || c.namesGen != gen {
		c.names, c.namesGen = c.d.Configs.Names(), gen
	}
	return slices.Clip(c.names), nil
}

func (c *Coordinator) connector(name string) (state.ConnectorState, error) {
	cs, ok := c.d.Configs.Connector(name)
	if !ok {
		return cs, rest.ConnectorNotFound(name)
	}
	return cs, nil
}

// connectorConfig is a copy of the connector's configuration with its
// name, and its task count: what the REST reads need, without copying
// the task configurations as connector does.
func (c *Coordinator) connectorConfig(name string) (map[string]string, int, error) {
	cfg, tasks, ok := c.d.Configs.ConnectorConfig(name)
	if !ok {
		return nil, 0, rest.ConnectorNotFound(name)
	}
	cfg[connect.NameConfig] = name
	return cfg, tasks, nil
}

func (c *Coordinator) connectorType(cfg map[string]string) rest.ConnectorType {
	p, err := c.d.Plugins.Connector(cfg[connect.ConnectorClassConfig])
	switch {
	case err != nil:
		return rest.UnknownType
	case p.Kind == connect.KindSink:
		return rest.SinkType
	}
	return rest.SourceType
}

// info is a ConnectorInfo; cfg (with the name) becomes its own.
func (c *Coordinator) info(name string, cfg map[string]string, taskCount int) rest.ConnectorInfo {
	tasks := make([]rest.TaskID, taskCount)
	for i := range tasks {
		tasks[i] = rest.TaskID{Connector: name, Task: i}
	}
	return rest.ConnectorInfo{Name: name, Config: cfg, Tasks: tasks, Type: c.connectorType(cfg)}
}

// ConnectorInfo is GET /connectors/{name}.
func (c *Coordinator) ConnectorInfo(_ context.Context, name string) (rest.ConnectorInfo, error) {
	cfg, tasks, err := c.connectorConfig(name)
	if err != nil {
		return rest.ConnectorInfo{}, err
	}
	return c.info(name, cfg, tasks), nil
}

// ConnectorConfig is GET /connectors/{name}/config; it includes name.
func (c *Coordinator) ConnectorConfig(_ context.Context, name string) (map[string]string, error) {
	cfg, _, err := c.connectorConfig(name)
	return cfg, err
}

// PutConnectorConfig creates or updates a connector (POST /connectors, PUT
// /connectors/{name}/config). An invalid configuration is rejected whole,
// naming every problem; nothing is written.
func (c *Coordinator) PutConnectorConfig(ctx context.Context, name string, cfg map[string]string, allowReplace bool, initialState string) (bool, rest.ConnectorInfo, error) {
	if err := c.requireLeader(); err != nil {
		return false, rest.ConnectorInfo{}, err
	}
	cfg = maps.Clone(cfg)
	if n, ok := cfg[connect.NameConfig]; ok && n != name {
		return false, rest.ConnectorInfo{}, &rest.BadRequestError{Message: "Connector name configuration (" + n + ") doesn't match connector name in the URL (" + name + ")"}
	}
	cfg[connect.NameConfig] = name
	_, exists := c.d.Configs.Connector(name)
	if exists && !allowReplace {
		return false, rest.ConnectorInfo{}, rest.ConnectorExists(name)
	}
	if n := len(c.d.Configs.Names()); !exists && n >= c.cfg.MaxConnectors {
		return false, rest.ConnectorInfo{}, &rest.StatusError{StatusCode: http.StatusConflict,
			Message: fmt.Sprintf("Cannot create connector %s: the cluster has %d connectors, the most SLUICE_MAX_CONNECTORS (%d) allows; delete one first",
				name, n, c.cfg.MaxConnectors)}
	}
	if _, infos, _, err := c.validate(cfg); err != nil {
		return false, rest.ConnectorInfo{}, err
	} else if infos.ErrorCount > 0 {
		return false, rest.ConnectorInfo{}, connect.ConfigError(infos)
	}
	target := state.TargetState("")
	switch initialState {
	case "PAUSED":
		target = state.TargetPaused
	case "STOPPED":
		target = state.TargetStopped
	case "RUNNING":
		target = state.TargetStarted
	}
	if exists {
		target = "" // an update keeps the target state
	}
	if err := c.d.Configs.PutConnectorConfig(ctx, name, cfg, target); err != nil {
		return false, rest.ConnectorInfo{}, err
	}
	c.poke()
	stored, tasks, _ := c.d.Configs.ConnectorConfig(name)
	if stored == nil {
		stored = map[string]string{}
	}
	stored[connect.NameConfig] = name
	return !exists, c.info(name, stored, tasks), nil
}

// Add creates or replaces a connector from a configuration here: a
// NotLeaderError when another coordinator leads (AddFile goes through
// whichever leads).
func (c *Coordinator) Add(props map[string]string) error {
	ctx, cancel := context.WithTimeout(c.ctx, stateWriteTimeout)
	defer cancel()
	_, _, err := c.PutConnectorConfig(ctx, props[connect.NameConfig], props, true, "")
	return err
}

// PatchConnectorConfig is PATCH /connectors/{name}/config: a null value
// removes the key.
func (c *Coordinator) PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (rest.ConnectorInfo, error) {
	cs, err := c.connector(name)
	if err != nil {
		return rest.ConnectorInfo{}, err
	}
	cfg := maps.Clone(cs.Config)
	for k, v := range patch {
		if v == nil {
			delete(cfg, k)
		} else {
			cfg[k] = *v
		}
	}
	_, info, err := c.PutConnectorConfig(ctx, name, cfg, true, "")
	return info, err
}

// DeleteConnector is DELETE /connectors/{name}.
func (c *Coordinator) DeleteConnector(ctx context.Context, name string) error {
	if err := c.requireLeader(); err != nil {
		return err
	}
	if _, err := c.connector(name); err != nil {
		return err
	}
	if err := c.d.Configs.DeleteConnector(ctx, name); err != nil {
		return err
	}
	c.poke()
	return nil
}

// ConnectorStatus is GET /connectors/{name}/status.
func (c *Coordinator) ConnectorStatus(_ context.Context, name string) (rest.ConnectorStateInfo, error) {
	cfg, taskCount, ok := c.d.Configs.ConnectorConfig(name)
	if !ok {
		return rest.ConnectorStateInfo{}, &rest.NotFoundError{Message: "No status found for connector " + name}
	}
	st, ok := c.d.Statuses.Connector(name)
	if !ok {
		st = state.Status{State: state.StateUnassigned}
	}
	info := rest.ConnectorStateInfo{Name: name, Type: c.connectorType(cfg),
		Connector: rest.ConnectorState{State: string(st.State), WorkerID: st.WorkerID, Trace: st.Trace}, Tasks: []rest.TaskState{}}
	for _, ts := range c.d.Statuses.Tasks(name) {
		if ts.Task < taskCount {
			info.Tasks = append(info.Tasks, rest.TaskState{ID: ts.Task, State: string(ts.State), WorkerID: ts.WorkerID, Trace: ts.Trace})
		}
	}
	return info, nil
}

// TaskConfigs is GET /connectors/{name}/tasks.
func (c *Coordinator) TaskConfigs(_ context.Context, name string) ([]rest.TaskInfo, error) {
	cs, err := c.connector(name)
	if err != nil {
		return nil, err
	}
	out := make([]rest.TaskInfo, len(cs.Tasks))
	for i, tc := range cs.Tasks {
		out[i] = rest.TaskInfo{ID: rest.TaskID{Connector: name, Task: i}, Config: tc}
	}
	return out, nil
}

// TaskStatus is GET /connectors/{name}/tasks/{id}/status.
func (c *Coordinator) TaskStatus(_ context.Context, id rest.TaskID) (rest.TaskState, error) {
	if _, _, err := c.connectorConfig(id.Connector); err != nil {
		return rest.TaskState{}, err
	}
	for _, ts := range c.d.Statuses.Tasks(id.Connector) {
		if ts.Task == id.Task {
			return rest.TaskState{ID: ts.Task, State: string(ts.State), WorkerID: ts.WorkerID, Trace: ts.Trace}, nil
		}
	}
	return rest.TaskState{}, &rest.NotFoundError{Message: fmt.Sprintf("No status found for task %s-%d", id.Connector, id.Task)}
}

func (c *Coordinator) run(name string) *connectorRun {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running[name]
}

// RestartConnector is POST /connectors/{name}/restart. A plain restart
// restarts the connector instance (nil: 204). With includeTasks or
// onlyFailed it restarts the connector (unless onlyFailed and it has not
// failed) and its tasks (all, or the failed ones), reporting RESTARTING for
// them (202), as Connect (KIP-745).
func (c *Coordinator) RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (*rest.ConnectorStateInfo, error) {
	if err := c.requireLeader(); err != nil {
		return nil, err
	}
	if _, ok := c.d.Configs.Connector(name); !ok {
		return nil, &rest.NotFoundError{Message: "Unknown connector: " + name}
	}
	info, err := c.ConnectorStatus(ctx, name)
	if err != nil {
		return nil, err
	}
	cr := c.run(name)
	if cr == nil {
		return nil, &rest.ConflictError{Message: "Cannot restart connector " + name + ": it is not running (stopped, or being started)"}
	}
	plain := !includeTasks && !onlyFailed
	restartConn := !onlyFailed || info.Connector.State == string(state.StateFailed)
	var tasks []int
	if includeTasks {
		for i, t := range info.Tasks {
			if !onlyFailed || t.State == string(state.StateFailed) {
				tasks = append(tasks, t.ID)
				info.Tasks[i].State = string(state.StateRestarting)
			}
		}
	}
	if restartConn {
		info.Connector.State = string(state.StateRestarting)
		select {
		case cr.restartConn <- struct{}{}:
		default:
		}
	} else if len(tasks) > 0 {
		cr.restartTasks <- tasks
	}
	if plain {
		return nil, nil
	}
	return &info, nil
}

// RestartTask is POST /connectors/{name}/tasks/{id}/restart.
func (c *Coordinator) RestartTask(ctx context.Context, id rest.TaskID) error {
	if err := c.requireLeader(); err != nil {
		return err
	}
	// Connect's words for the unknown connector and task of a restart.
	cs, ok := c.d.Configs.Connector(id.Connector)
	if !ok {
		return &rest.NotFoundError{Message: "Unknown connector: " + id.Connector}
	}
	if id.Task < 0 || id.Task >= cs.TaskCount {
		return &rest.NotFoundError{Message: fmt.Sprintf("Unknown task: %s-%d", id.Connector, id.Task)}
	}
	cr := c.run(id.Connector)
	if cr == nil {
		return &rest.ConflictError{Message: "Cannot restart task " + strconv.Itoa(id.Task) + " of " + id.Connector + ": the connector is not running"}
	}
	cr.restartTasks <- []int{id.Task}
	return nil
}

func (c *Coordinator) putTarget(ctx context.Context, name string, t state.TargetState) error {
	if err := c.requireLeader(); err != nil {
		return err
	}
	if _, ok := c.d.Configs.Connector(name); !ok {
		return &rest.NotFoundError{Message: "Unknown connector " + name} // Connect's words for pause, resume and stop
	}
	if err := c.d.Configs.PutTargetState(ctx, name, t); err != nil {
		return err
	}
	c.poke()
	return nil
}

// PauseConnector is PUT /connectors/{name}/pause.
func (c *Coordinator) PauseConnector(ctx context.Context, name string) error {
	return c.putTarget(ctx, name, state.TargetPaused)
}

// ResumeConnector is PUT /connectors/{name}/resume.
func (c *Coordinator) ResumeConnector(ctx context.Context, name string) error {
	return c.putTarget(ctx, name, state.TargetStarted)
}

// StopConnector is PUT /connectors/{name}/stop.
func (c *Coordinator) StopConnector(ctx context.Context, name string) error {
	return c.putTarget(ctx, name, state.TargetStopped)
}

// ConnectorActiveTopics is GET /connectors/{name}/topics: the topics the
// connector's tasks have used since it was created or its topics were
// reset, from the status topic (KIP-558).
func (c *Coordinator) ConnectorActiveTopics(_ context.Context, name string) (rest.ActiveTopicsInfo, error) {
	if !c.cfg.TopicTrackingEnable {
		return rest.ActiveTopicsInfo{}, &rest.StatusError{StatusCode: http.StatusForbidden, Message: "Topic tracking is disabled."}
	}
	// An unknown connector has no active topics (Connect answers 200).
	return rest.ActiveTopicsInfo{Connector: name, Topics: c.d.Statuses.Topics(name)}, nil
}

// ResetConnectorActiveTopics is PUT /connectors/{name}/topics/reset: the
// connector's active topics are tombstoned in the status topic. As in
// Connect, any coordinator does it, and topic.tracking.allow.reset=false
// forbids it.
func (c *Coordinator) ResetConnectorActiveTopics(ctx context.Context, name string) error {
	switch {
	case !c.cfg.TopicTrackingEnable:
		return &rest.StatusError{StatusCode: http.StatusForbidden, Message: "Topic tracking is disabled."}
	case !c.cfg.TopicTrackingAllowReset:
		return &rest.StatusError{StatusCode: http.StatusForbidden, Message: "Topic tracking reset is disabled."}
	}
	if _, err := c.connector(name); err != nil {
		return err
	}
	return c.d.Statuses.DeleteTopicStatuses(ctx, name)
}

// Sink connectors' offsets use Connect's partition and offset keys.
const (
	kafkaTopicKey     = "kafka_topic"
	kafkaPartitionKey = "kafka_partition"
	kafkaOffsetKey    = "kafka_offset"
)

// ConnectorOffsets is GET /connectors/{name}/offsets: a source connector's
// offsets from the offsets topic, a sink connector's from its consumer
// group connect-<name>.
func (c *Coordinator) ConnectorOffsets(ctx context.Context, name string) (rest.ConnectorOffsets, error) {
	cs, err := c.connector(name)
	if err != nil {
		return rest.ConnectorOffsets{}, err
	}
	out := rest.ConnectorOffsets{Offsets: []rest.ConnectorOffset{}}
	if c.connectorType(cs.Config) == rest.SinkType {
		committed, err := c.d.Kafka.GroupOffsets(ctx, lease.GroupID(name))
		if err != nil {
			return out, err
		}
		tps := slices.SortedFunc(maps.Keys(committed), func(a, b kafka.TopicPartition) int {
			if a.Topic != b.Topic {
				return strings.Compare(a.Topic, b.Topic)
			}
			return int(a.Partition - b.Partition)
		})
		for _, tp := range tps {
			out.Offsets = append(out.Offsets, rest.ConnectorOffset{
				Partition: map[string]any{kafkaTopicKey: tp.Topic, kafkaPartitionKey: tp.Partition},
				Offset:    map[string]any{kafkaOffsetKey: committed[tp]},
			})
		}
		return out, nil
	}
	if c.d.Offsets == nil {
		return out, nil
	}
	offs, err := c.sourceOffsets(ctx, name, cs.Config)
	if err != nil {
		return out, err
	}
	out.Offsets = offs
	return out, nil
}

// requireStopped is Connect's rule for the offsets endpoints.
func (c *Coordinator) requireStopped(name string) (state.ConnectorState, error) {
	if err := c.requireLeader(); err != nil {
		return state.ConnectorState{}, err
	}
	cs, err := c.connector(name)
	if err != nil {
		return cs, err
	}
	if cs.TargetState != state.TargetStopped || c.run(name) != nil {
		return cs, &rest.BadRequestError{Message: "Connectors must be in the STOPPED state before their offsets can be modified. " +
			"This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/" + name + "/stop' endpoint"}
	}
	return cs, nil
}

// AlterConnectorOffsets is PATCH /connectors/{name}/offsets (only while
// STOPPED). A null offset removes the partition's offset.
func (c *Coordinator) AlterConnectorOffsets(ctx context.Context, name string, offs rest.ConnectorOffsets) (rest.Message, error) {
	cs, err := c.requireStopped(name)
	if err != nil {
		return rest.Message{}, err
	}
	if c.connectorType(cs.Config) == rest.SinkType {
		set := map[kafka.TopicPartition]int64{}
		var del []kafka.TopicPartition
		for _, o := range offs.Offsets {
			tp, err := sinkPartition(o.Partition)
			if err != nil {
				return rest.Message{}, err
			}
			if o.Offset == nil {
				del = append(del, tp)
				continue
			}
			off, err := toInt64(o.Offset[kafkaOffsetKey])
			if err != nil || off < 0 {
				return rest.Message{}, &rest.BadRequestError{Message: "Kafka offsets must be non-negative integers, not " + fmt.Sprint(o.Offset[kafkaOffsetKey]) + " (key " + kafkaOffsetKey + ")"}
			}
			set[tp] = off
		}
		group := lease.GroupID(name)
		if len(set) > 0 {
			if err := c.d.Kafka.SetGroupOffsets(ctx, group, set); err != nil {
				return rest.Message{}, err
			}
		}
		if len(del) > 0 {
			if err := c.d.Kafka.DeleteGroupOffsets(ctx, group, del); err != nil {
				return rest.Message{}, err
			}
		}
		return rest.Message{Message: "The Connect framework-managed offsets for this connector have been altered successfully. " +
			"However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses."}, nil
	}
	if c.d.Offsets == nil {
		return rest.Message{}, errors.New("this coordinator has no source offsets store")
	}
	entries := make([]offsets.Entry, 0, len(offs.Offsets))
	for _, o := range offs.Offsets {
		entries = append(entries, offsets.Entry{Partition: o.Partition, Offset: o.Offset})
	}
	if err := c.writeSourceOffsets(ctx, name, cs.Config, entries); err != nil {
		return rest.Message{}, err
	}
	return rest.Message{Message: "The offsets for this connector have been altered successfully"}, nil
}

// ResetConnectorOffsets is DELETE /connectors/{name}/offsets (only while
// STOPPED).
func (c *Coordinator) ResetConnectorOffsets(ctx context.Context, name string) (rest.Message, error) {
	cs, err := c.requireStopped(name)
	if err != nil {
		return rest.Message{}, err
	}
	if c.connectorType(cs.Config) == rest.SinkType {
		if err := c.d.Kafka.DeleteGroup(ctx, lease.GroupID(name)); err != nil {
			return rest.Message{}, err
		}
		return rest.Message{Message: "The Connect framework-managed offsets for this connector have been reset successfully. " +
			"However, if this connector manages offsets externally, they will need to be manually reset in the system that the connector uses."}, nil
	}
	if c.d.Offsets == nil {
		return rest.Message{}, errors.New("this coordinator has no source offsets store")
	}
	current, err := c.sourceOffsets(ctx, name, cs.Config)
	if err != nil {
		return rest.Message{}, err
	}
	var tombstones []offsets.Entry
	for _, o := range current {
		tombstones = append(tombstones, offsets.Entry{Partition: o.Partition})
	}
	if err := c.writeSourceOffsets(ctx, name, cs.Config, tombstones); err != nil {
		return rest.Message{}, err
	}
	return rest.Message{Message: "The offsets for this connector have been reset successfully"}, nil
}

func sinkPartition(p map[string]any) (kafka.TopicPartition, error) {
	topic, ok := p[kafkaTopicKey].(string)
	part, err := toInt64(p[kafkaPartitionKey])
	if !ok || topic == "" || err != nil || part < 0 {
		return kafka.TopicPartition{}, &rest.BadRequestError{Message: "Sink connector offsets need a partition with a string " +
			kafkaTopicKey + " and a non-negative integer " + kafkaPartitionKey + ", not " + fmt.Sprint(p)}
	}
	return kafka.TopicPartition{Topic: topic, Partition: int32(part)}, nil
}

// toInt64 reads an integer of a REST offsets request as Connect's
// SinkUtils does (parsing String.valueOf the value): JSON numbers and
// strings. Committed offsets use connect.OffsetPosition instead.
func toInt64(v any) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case int32:
		return int64(n), nil
	case int:
		return int64(n), nil
	case float64:
		// Not n == float64(int64(n)): converting 2^63 is
		// platform-dependent, and arm64 saturates it to MaxInt64.
		if n == math.Trunc(n) && n >= math.MinInt64 && n < math.MaxInt64 {
			return int64(n), nil
		}
	case interface{ Int64() (int64, error) }:
		return n.Int64()
	case string:
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, fmt.Errorf("not an integer: %v", v)
}

// ValidateConnectorConfig is PUT /connector-plugins/{plugin}/config/validate.
func (c *Coordinator) ValidateConnectorConfig(_ context.Context, _ string, cfg map[string]string) (config.Infos, error) {
	_, infos, _, err := c.validate(cfg)
	return infos, err
}

// ConnectorPlugins is GET /connector-plugins.
func (c *Coordinator) ConnectorPlugins(_ context.Context, connectorsOnly bool) []rest.PluginInfo {
	kinds := []connect.Kind{connect.KindSource, connect.KindSink}
	if !connectorsOnly {
		kinds = append(kinds, connect.KindConverter, connect.KindHeaderConverter, connect.KindTransformation, connect.KindPredicate)
	}
	var out []rest.PluginInfo
	for _, p := range c.d.Plugins.Plugins(kinds...) {
		out = append(out, rest.PluginInfo{Class: p.Class, Type: string(p.Kind), Version: p.Version})
	}
	return out
}

// PluginConfig is GET /connector-plugins/{plugin}/config: the plugin's own
// configuration keys, as Connect returns them.
func (c *Coordinator) PluginConfig(_ context.Context, name string) (keys []config.KeyInfo, err error) {
	defer c.recoverPlugin("declaring the configuration of "+name, &err)
	for _, kind := range []connect.Kind{"", connect.KindTransformation, connect.KindPredicate, connect.KindConverter, connect.KindHeaderConverter} {
		p, err := c.d.Plugins.Lookup(kind, name)
		if err != nil {
			continue
		}
		switch p.Kind {
		case connect.KindSource, connect.KindSink:
			return p.NewConnector().Config().KeyInfos(), nil
		case connect.KindTransformation:
			return p.NewTransformation().Config().KeyInfos(), nil
		case connect.KindPredicate:
			return p.NewPredicate().Config().KeyInfos(), nil
		}
		return []config.KeyInfo{}, nil
	}
	return nil, &rest.NotFoundError{Message: "Unknown plugin " + name + "."}
}

// FenceZombies is PUT /connectors/{name}/fence (KIP-618): it initialises
// a transactional producer with the transactional id of each of the
// source connector's tasks (<group.id>-<connector>-<task>), which fences
// every invocation still holding an older one: their open transactions
// are aborted and they can write nothing more. A lease running when the
// fence comes fails as fenced (retriable) and the task's next lease goes
// on from the last committed offsets. It needs exactly-once source
// support enabled.
func (c *Coordinator) FenceZombies(ctx context.Context, name string) error {
	if !c.cfg.ExactlyOnce.Enabled() {
		return &rest.StatusError{StatusCode: http.StatusBadRequest,
			Message: "Exactly-once source support is not enabled on this worker (SLUICE_EXACTLY_ONCE_SOURCE_SUPPORT=enabled)."}
	}
	cs, err := c.connector(name)
	if err != nil {
		return err
	}
	if c.connectorType(cs.Config) != rest.SourceType {
		return &rest.StatusError{StatusCode: http.StatusBadRequest, Message: "Connector " + name + " is not a source connector: only source tasks are fenced."}
	}
	tasks := max(cs.TaskCount, len(cs.Tasks))
	for task := range tasks {
		if err := ctx.Err(); err != nil {
			return err
		}
		id := lease.TransactionalID(c.cfg.GroupID, name, task)
		p, err := c.d.Kafka.NewProducer(kafka.ProducerOptions{TransactionalID: id})
		if err != nil {
			return fmt.Errorf("fencing task %d of %s (transactional id %s): %w", task, name, id, err)
		}
		if err := p.Close(); err != nil {
			return fmt.Errorf("fencing task %d of %s (transactional id %s): %w", task, name, id, err)
		}
		c.log.Info("fenced the task's older producers", "connector", name, "task", task, "transactional_id", id)
	}
	return nil
}
