package coordinator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/plugins"
)

// panicSourceClass is a test connector: Datagen, except that a connector
// named "panic-start" panics in Start and one named "panic-taskconfigs"
// in TaskConfigs.
const panicSourceClass = "test.sluice.PanicSourceConnector"

func panicSourcePlugin(t *testing.T) connect.Plugin {
	t.Helper()
	datagen, err := plugins.Registry().Connector("Datagen")
	if err != nil {
		t.Fatal(err)
	}
	p := datagen
	p.Class, p.Aliases = panicSourceClass, nil
	p.NewConnector = func() connect.Connector { return &panicConnector{Connector: datagen.NewConnector()} }
	return p
}

type panicConnector struct {
	connect.Connector
	name string
}

func (c *panicConnector) Start(ctx context.Context, cc connect.ConnectorContext, props map[string]string) error {
	c.name = props[connect.NameConfig]
	if c.name == "panic-start" {
		panic("boom in Start")
	}
	return c.Connector.Start(ctx, cc, props)
}

func (c *panicConnector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	if c.name == "panic-taskconfigs" {
		panic("boom in TaskConfigs")
	}
	return c.Connector.TaskConfigs(maxTasks)
}

// panicLeases is the lease log, except that recording a lease of the
// connector "panic-step" panics: a panic in the coordinator's own code of
// a task step, outside the invocation (which invokeChecked recovers).
type panicLeases struct{ coordinator.LeaseLog }

func (l panicLeases) Begin(ctx context.Context, connector string, ls lease.Lease, leader int32) error {
	if connector == "panic-step" {
		panic("boom in a task step")
	}
	return l.LeaseLog.Begin(ctx, connector, ls, leader)
}

// A connector whose Start or TaskConfigs panics becomes FAILED with the
// panic in its trace, and a task step that panics makes its task FAILED
// with the panic in its trace; either way the coordinator keeps running
// the other connectors.
func TestPanicsFailTheConnectorOrTaskNotTheCoordinator(t *testing.T) {
	tests := []struct {
		name  string
		class string
		task  bool // the task fails, not the connector
		trace string
	}{
		{name: "panic-start", class: panicSourceClass, trace: "connector panicked: boom in Start"},
		{name: "panic-taskconfigs", class: panicSourceClass, trace: "connector panicked: boom in TaskConfigs"},
		{name: "panic-step", class: "Datagen", task: true, trace: "task step panicked: boom in a task step"},
	}
	k := kafkatest.Start(t, 1)
	cfg := testConfig()
	cfg.TaskRetries = 0
	coord := build(t, k, cfg, setup{
		plugins:    []connect.Plugin{panicSourcePlugin(t)},
		wrapLeases: func(l coordinator.LeaseLog) coordinator.LeaseLog { return panicLeases{l} },
	})
	good := datagenProps(5)
	good["name"] = "good"
	if err := coord.Add(good); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			props := datagenProps(10)
			props["name"], props["connector.class"] = tc.name, tc.class
			if err := coord.Add(props); err != nil {
				t.Fatal(err)
			}
			var trace string
			waitFor(t, 20*time.Second, tc.name+" FAILED", func() bool {
				st := status(t, coord, tc.name)
				if !tc.task {
					trace = st.Connector.Trace
					return st.Connector.State == "FAILED"
				}
				if len(st.Tasks) == 1 {
					trace = st.Tasks[0].Trace
				}
				return len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED"
			})
			if !strings.Contains(trace, tc.trace) || !strings.Contains(trace, "goroutine ") {
				t.Fatalf("trace %q does not hold %q and a stack", trace, tc.trace)
			}
			// The coordinator is alive and still runs the other connector.
			waitFor(t, 20*time.Second, "the good connector running", func() bool {
				st := status(t, coord, "good")
				return st.Connector.State == "RUNNING" && len(st.Tasks) == 1 && st.Tasks[0].State == "RUNNING"
			})
		})
	}
}

// panicConfigClass is a test connector whose Config panics, and
// panicValidatorClass one whose declaration has a key ("boom") whose
// validator panics: plugin code that runs when a configuration is
// validated over REST, not in a connector run.
const (
	panicConfigClass    = "test.sluice.PanicConfigConnector"
	panicValidatorClass = "test.sluice.PanicValidatorConnector"
)

func panicValidationPlugins(t *testing.T) []connect.Plugin {
	t.Helper()
	datagen, err := plugins.Registry().Connector("Datagen")
	if err != nil {
		t.Fatal(err)
	}
	inConfig, inValidator := datagen, datagen
	inConfig.Class, inConfig.Aliases = panicConfigClass, nil
	inConfig.NewConnector = func() connect.Connector { return panicConfigConnector{datagen.NewConnector()} }
	inValidator.Class, inValidator.Aliases = panicValidatorClass, nil
	inValidator.NewConnector = func() connect.Connector { return panicValidatorConnector{datagen.NewConnector()} }
	return []connect.Plugin{inConfig, inValidator}
}

type panicConfigConnector struct{ connect.Connector }

func (panicConfigConnector) Config() *config.Def { panic("boom in Config") }

type panicValidatorConnector struct{ connect.Connector }

func (c panicValidatorConnector) Config() *config.Def {
	return c.Connector.Config().Define(config.Key{Name: "boom", Type: config.String, Default: "", Importance: config.Low,
		Doc: "Panics when validated.", Validator: config.LambdaValidator(func(string, any) error { panic("boom in a validator") }, "panics")})
}

// A connector whose Config or one of whose validators panics while a
// configuration is validated (PUT /connector-plugins/{class}/config/validate,
// POST /connectors, PUT /connectors/{name}/config) is answered 500 with the
// panic's message in Connect's error shape, as Connect's
// ConnectExceptionMapper answers an exception the plugin threw; nothing is
// written, and the coordinator goes on serving.
func TestPanicInValidationIsA500NotACrash(t *testing.T) {
	k := kafkatest.Start(t, 1)
	coord := build(t, k, testConfig(), setup{plugins: panicValidationPlugins(t)})
	srv := httptest.NewServer(rest.NewHandler(coord, rest.Options{Version: "test"}))
	defer srv.Close()
	body := func(class string) string {
		return `{"connector.class":"` + class + `","topic":"orders","shape":"orders","count":"1","tasks.max":"1","boom":"x"}`
	}
	tests := []struct {
		name, method, path, body, panic string
	}{
		{"validate, Config panics", "PUT", "/connector-plugins/PanicConfigConnector/config/validate", body(panicConfigClass), "boom in Config"},
		{"validate, validator panics", "PUT", "/connector-plugins/PanicValidatorConnector/config/validate", body(panicValidatorClass), "boom in a validator"},
		{"create, Config panics", "POST", "/connectors", `{"name":"p1","config":` + body(panicConfigClass) + `}`, "boom in Config"},
		{"create, validator panics", "POST", "/connectors", `{"name":"p2","config":` + body(panicValidatorClass) + `}`, "boom in a validator"},
		{"put, Config panics", "PUT", "/connectors/p3/config", body(panicConfigClass), "boom in Config"},
		{"plugin config, Config panics", "GET", "/connector-plugins/" + panicConfigClass + "/config", "", "boom in Config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, got := call(t, srv.URL, tc.method, tc.path, tc.body)
			var msg rest.ErrorMessage
			if err := json.Unmarshal([]byte(got), &msg); err != nil {
				t.Fatalf("%s %s: %d %q is not Connect's error shape: %v", tc.method, tc.path, code, got, err)
			}
			if code != http.StatusInternalServerError || msg.ErrorCode != code || !strings.Contains(msg.Message, tc.panic) {
				t.Fatalf("%s %s: %d %q, want 500 with %q", tc.method, tc.path, code, got, tc.panic)
			}
			// Still serving: a read, and a valid connector is created.
			if code, _, got := call(t, srv.URL, "GET", "/connectors", ""); code != http.StatusOK || strings.Contains(got, `"p`) {
				t.Fatalf("GET /connectors after the panic: %d %s, want 200 without the panicking connectors", code, got)
			}
		})
	}
	good := datagenProps(5)
	delete(good, "name")
	create, err := json.Marshal(map[string]any{"name": "good", "config": good})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, got := call(t, srv.URL, "POST", "/connectors", string(create)); code != http.StatusCreated {
		t.Fatalf("creating a valid connector after the panics: %d %s", code, got)
	}
	waitFor(t, 20*time.Second, "the good connector running", func() bool {
		st := status(t, coord, "good")
		return st.Connector.State == "RUNNING" && len(st.Tasks) == 1 && st.Tasks[0].State == "RUNNING"
	})
}
