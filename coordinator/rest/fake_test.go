package rest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// fakeHerder is a small, real, in-memory Herder: connectors live in a map,
// configurations are validated with config.Def as the coordinator does, and
// offsets can only change while a connector is STOPPED.
type fakeHerder struct {
	mu         sync.Mutex
	leaderURL  string
	isLeader   bool
	notLeader  bool // every call answers NotLeaderError{leaderURL}
	clusterID  string
	connectors map[string]*fakeConnector
	calls      []string
}

type fakeConnector struct {
	config  map[string]string
	target  string // RUNNING, PAUSED or STOPPED
	offsets []ConnectorOffset
	topics  []string
}

type fakePlugin struct {
	info PluginInfo
	def  *config.Def
}

var _ Herder = (*fakeHerder)(nil)

// commonDef is the part of ConnectorConfig the fake validates.
var commonDef = config.NewDef().
	Define(config.Key{Name: "name", Type: config.String, Default: config.NoDefault, Validator: config.NonEmptyString(),
		Importance: config.High, Doc: "Globally unique name to use for this connector.", Group: "Common", OrderInGroup: 1,
		Width: config.WidthMedium, DisplayName: "Connector name"}).
	Define(config.Key{Name: "connector.class", Type: config.String, Default: config.NoDefault, Importance: config.High,
		Doc: "Name or alias of the class for this connector.", Group: "Common", OrderInGroup: 2, Width: config.WidthLong,
		DisplayName: "Connector class"}).
	Define(config.Key{Name: "tasks.max", Type: config.Int, Default: 1, Validator: config.AtLeast(1), Importance: config.High,
		Doc: "Maximum number of tasks to use for this connector.", Group: "Common", OrderInGroup: 3, Width: config.WidthShort,
		DisplayName: "Tasks max"})

// fakePlugins are FileStream connectors with Connect's own key definitions,
// a sink with a password and a converter.
var fakePlugins = []fakePlugin{
	{PluginInfo{Class: "org.apache.kafka.connect.file.FileStreamSinkConnector", Type: PluginSink, Version: "3.9.0"},
		config.NewDef().
			Define(config.Key{Name: "file", Type: config.String, Default: nil, Importance: config.High,
				OrderInGroup: -1, Doc: "Destination filename. If not specified, the standard output will be used"})},
	{PluginInfo{Class: "org.apache.kafka.connect.file.FileStreamSourceConnector", Type: PluginSource, Version: "3.9.0"},
		config.NewDef().
			Define(config.Key{Name: "file", Type: config.String, Default: nil, Importance: config.High,
				OrderInGroup: -1, Doc: "Source filename. If not specified, the standard input will be used"}).
			Define(config.Key{Name: "topic", Type: config.String, Default: config.NoDefault, Validator: config.NonEmptyString(),
				Importance: config.High, OrderInGroup: -1, Doc: "The topic to publish data to"}).
			Define(config.Key{Name: "batch.size", Type: config.Int, Default: 2000, Importance: config.Low,
				OrderInGroup: -1, Doc: "The maximum number of records the source task can read from the file each time it is polled"})},
	{PluginInfo{Class: "com.example.SecretSinkConnector", Type: PluginSink},
		config.NewDef().
			Define(config.Key{Name: "api.key", Type: config.Password, Default: config.NoDefault, Importance: config.High,
				OrderInGroup: -1, Doc: "API key."})},
	{PluginInfo{Class: "org.apache.kafka.connect.json.JsonConverter", Type: PluginConverter, Version: "3.9.0"},
		config.NewDef().
			Define(config.Key{Name: "schemas.enable", Type: config.Boolean, Default: true, Importance: config.High,
				OrderInGroup: -1, Doc: "Include schemas within each of the serialized values and keys."})},
}

func newFakeHerder() *fakeHerder {
	return &fakeHerder{isLeader: true, clusterID: "I4ZmrWqfT2e-upky_4fdPA", connectors: map[string]*fakeConnector{}}
}

// add creates a connector directly, as if it had been created earlier.
func (f *fakeHerder) add(name, state string, cfg map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cfg = maps(cfg)
	cfg["name"] = name
	f.connectors[name] = &fakeConnector{config: cfg, target: state, topics: []string{"test-topic"}}
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (f *fakeHerder) record(op string) error {
	f.calls = append(f.calls, op)
	if f.notLeader {
		return &NotLeaderError{LeaderURL: f.leaderURL}
	}
	return nil
}

func (f *fakeHerder) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func findPlugin(name string) (fakePlugin, bool) {
	for _, p := range fakePlugins {
		simple := p.info.Class[strings.LastIndexByte(p.info.Class, '.')+1:]
		if name == p.info.Class || name == simple || name == strings.TrimSuffix(simple, "Connector") {
			return p, true
		}
	}
	return fakePlugin{}, false
}

func (f *fakeHerder) Leader() (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leaderURL, f.isLeader
}

func (f *fakeHerder) KafkaClusterID(context.Context) (string, error) { return f.clusterID, nil }

func (f *fakeHerder) Connectors(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sortedKeys(f.connectors), nil
}

func (f *fakeHerder) get(name string) (*fakeConnector, error) {
	c, ok := f.connectors[name]
	if !ok {
		return nil, ConnectorNotFound(name)
	}
	return c, nil
}

func (f *fakeHerder) info(name string, c *fakeConnector) ConnectorInfo {
	p, _ := findPlugin(c.config["connector.class"])
	info := ConnectorInfo{Name: name, Config: maps(c.config), Type: ConnectorType(p.info.Type)}
	if c.target != StateStopped {
		for i := range f.tasksMax(c) {
			info.Tasks = append(info.Tasks, TaskID{Connector: name, Task: i})
		}
	}
	return info
}

func (f *fakeHerder) tasksMax(c *fakeConnector) int {
	var n int
	if _, err := fmt.Sscan(c.config["tasks.max"], &n); err != nil || n < 1 {
		return 1
	}
	return n
}

func (f *fakeHerder) ConnectorInfo(_ context.Context, name string) (ConnectorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.get(name)
	if err != nil {
		return ConnectorInfo{}, err
	}
	return f.info(name, c), nil
}

func (f *fakeHerder) ConnectorConfig(_ context.Context, name string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.get(name)
	if err != nil {
		return nil, err
	}
	return maps(c.config), nil
}

func validate(cfg map[string]string) error {
	class := cfg["connector.class"]
	if class == "" {
		return &BadRequestError{Message: "Connector config " + fmt.Sprint(cfg) + " contains no connector type"}
	}
	p, ok := findPlugin(class)
	if !ok {
		return &BadRequestError{Message: "Failed to find any class that implements Connector and which name matches " + class}
	}
	_, err := commonDef.Merge(p.def).Parse(cfg)
	return err
}

func (f *fakeHerder) PutConnectorConfig(_ context.Context, name string, cfg map[string]string, allowReplace bool, initialState string) (bool, ConnectorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("put " + name); err != nil {
		return false, ConnectorInfo{}, err
	}
	c, exists := f.connectors[name]
	if exists && !allowReplace {
		return false, ConnectorInfo{}, ConnectorExists(name)
	}
	if err := validate(cfg); err != nil {
		return false, ConnectorInfo{}, err
	}
	if exists {
		c.config = maps(cfg)
		return false, f.info(name, c), nil
	}
	if initialState == "" {
		initialState = StateRunning
	}
	c = &fakeConnector{config: maps(cfg), target: initialState}
	f.connectors[name] = c
	return true, f.info(name, c), nil
}

func (f *fakeHerder) PatchConnectorConfig(_ context.Context, name string, patch map[string]*string) (ConnectorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("patch " + name); err != nil {
		return ConnectorInfo{}, err
	}
	c, err := f.get(name)
	if err != nil {
		return ConnectorInfo{}, err
	}
	cfg := maps(c.config)
	for k, v := range patch {
		if v == nil {
			delete(cfg, k)
		} else {
			cfg[k] = *v
		}
	}
	if err := validate(cfg); err != nil {
		return ConnectorInfo{}, err
	}
	c.config = cfg
	return f.info(name, c), nil
}

func (f *fakeHerder) DeleteConnector(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("delete " + name); err != nil {
		return err
	}
	if _, err := f.get(name); err != nil {
		return err
	}
	delete(f.connectors, name)
	return nil
}

const fakeWorker = "fakehost:8083"

func (f *fakeHerder) status(name string, c *fakeConnector) ConnectorStateInfo {
	info := f.info(name, c)
	st := ConnectorStateInfo{Name: name, Connector: ConnectorState{State: c.target, WorkerID: fakeWorker}, Type: info.Type}
	for _, t := range info.Tasks {
		ts := TaskState{ID: t.Task, State: c.target, WorkerID: fakeWorker}
		if c.config["fail.task"] == fmt.Sprint(t.Task) {
			ts.State, ts.Trace = StateFailed, "org.apache.kafka.connect.errors.ConnectException: boom"
		}
		st.Tasks = append(st.Tasks, ts)
	}
	return st
}

func (f *fakeHerder) ConnectorStatus(_ context.Context, name string) (ConnectorStateInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.get(name)
	if err != nil {
		return ConnectorStateInfo{}, err
	}
	return f.status(name, c), nil
}

func (f *fakeHerder) TaskConfigs(_ context.Context, name string) ([]TaskInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.get(name)
	if err != nil {
		return nil, err
	}
	var tasks []TaskInfo
	for _, id := range f.info(name, c).Tasks {
		tasks = append(tasks, TaskInfo{ID: id, Config: map[string]string{
			"task.class": strings.TrimSuffix(c.config["connector.class"], "Connector") + "Task",
			"file":       c.config["file"],
		}})
	}
	return tasks, nil
}

func (f *fakeHerder) TaskStatus(_ context.Context, id TaskID) (TaskState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.connectors[id.Connector]
	if ok {
		for _, t := range f.status(id.Connector, c).Tasks {
			if t.ID == id.Task {
				return t, nil
			}
		}
	}
	return TaskState{}, &NotFoundError{Message: fmt.Sprintf("No status found for task %s-%d", id.Connector, id.Task)}
}

func (f *fakeHerder) RestartConnector(_ context.Context, name string, includeTasks, onlyFailed bool) (*ConnectorStateInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("restart " + name); err != nil {
		return nil, err
	}
	c, err := f.get(name)
	if err != nil {
		return nil, err
	}
	if !includeTasks && !onlyFailed {
		return nil, nil
	}
	st := f.status(name, c)
	if !onlyFailed || st.Connector.State == StateFailed {
		st.Connector.State = StateRestarting
	}
	for i, t := range st.Tasks {
		if includeTasks && (!onlyFailed || t.State == StateFailed) {
			st.Tasks[i].State, st.Tasks[i].Trace = StateRestarting, ""
		}
	}
	return &st, nil
}

func (f *fakeHerder) RestartTask(ctx context.Context, id TaskID) error {
	if _, err := f.TaskStatus(ctx, id); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.record(fmt.Sprintf("restart %s-%d", id.Connector, id.Task))
}

func (f *fakeHerder) setTarget(name, op, state string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(op + " " + name); err != nil {
		return err
	}
	c, err := f.get(name)
	if err != nil {
		return err
	}
	c.target = state
	return nil
}

func (f *fakeHerder) PauseConnector(_ context.Context, name string) error {
	return f.setTarget(name, "pause", StatePaused)
}

func (f *fakeHerder) ResumeConnector(_ context.Context, name string) error {
	return f.setTarget(name, "resume", StateRunning)
}

func (f *fakeHerder) FenceZombies(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("fence " + name); err != nil {
		return err
	}
	_, err := f.get(name)
	return err
}

func (f *fakeHerder) StopConnector(_ context.Context, name string) error {
	return f.setTarget(name, "stop", StateStopped)
}

func (f *fakeHerder) ConnectorActiveTopics(_ context.Context, name string) (ActiveTopicsInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.get(name)
	if err != nil {
		return ActiveTopicsInfo{}, err
	}
	return ActiveTopicsInfo{Connector: name, Topics: slices.Clone(c.topics)}, nil
}

func (f *fakeHerder) ResetConnectorActiveTopics(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("reset topics " + name); err != nil {
		return err
	}
	c, err := f.get(name)
	if err != nil {
		return err
	}
	c.topics = nil
	return nil
}

func (f *fakeHerder) ConnectorOffsets(_ context.Context, name string) (ConnectorOffsets, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.get(name)
	if err != nil {
		return ConnectorOffsets{}, err
	}
	return ConnectorOffsets{Offsets: slices.Clone(c.offsets)}, nil
}

// stopped returns Connect's error for an offsets change on a connector that
// is not STOPPED.
func (f *fakeHerder) stopped(name string) (*fakeConnector, error) {
	c, err := f.get(name)
	if err != nil {
		return nil, err
	}
	if c.target != StateStopped {
		return nil, &BadRequestError{Message: "Connectors must be in the STOPPED state before their offsets can be modified. " +
			"This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/" + name + "/stop' endpoint"}
	}
	return c, nil
}

func (f *fakeHerder) AlterConnectorOffsets(_ context.Context, name string, offsets ConnectorOffsets) (Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("alter offsets " + name); err != nil {
		return Message{}, err
	}
	c, err := f.stopped(name)
	if err != nil {
		return Message{}, err
	}
	c.offsets = append(c.offsets, offsets.Offsets...)
	return Message{Message: "The offsets for this connector have been altered successfully"}, nil
}

func (f *fakeHerder) ResetConnectorOffsets(_ context.Context, name string) (Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("reset offsets " + name); err != nil {
		return Message{}, err
	}
	c, err := f.stopped(name)
	if err != nil {
		return Message{}, err
	}
	c.offsets = nil
	return Message{Message: "The offsets for this connector have been reset successfully"}, nil
}

func (f *fakeHerder) ValidateConnectorConfig(_ context.Context, pluginName string, cfg map[string]string) (config.Infos, error) {
	p, ok := findPlugin(pluginName)
	if !ok {
		return config.Infos{}, &BadRequestError{Message: "Failed to find any class that implements Connector and which name matches " + pluginName}
	}
	return commonDef.Merge(p.def).Infos(p.info.Class, cfg), nil
}

func (f *fakeHerder) ConnectorPlugins(_ context.Context, connectorsOnly bool) []PluginInfo {
	var out []PluginInfo
	for _, p := range fakePlugins {
		if !connectorsOnly || p.info.Type == PluginSource || p.info.Type == PluginSink {
			out = append(out, p.info)
		}
	}
	return out
}

func (f *fakeHerder) PluginConfig(_ context.Context, pluginName string) ([]config.KeyInfo, error) {
	p, ok := findPlugin(pluginName)
	if !ok {
		return nil, &NotFoundError{Message: "Unknown plugin " + pluginName + "."}
	}
	return p.def.KeyInfos(), nil
}
