package coordinator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect"
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

func (l panicLeases) Begin(ctx context.Context, connector string, ls lease.Lease) error {
	if connector == "panic-step" {
		panic("boom in a task step")
	}
	return l.LeaseLog.Begin(ctx, connector, ls)
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
