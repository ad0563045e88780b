package coordinator_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator"
	"github.com/sluicehq/sluice/coordinator/rest"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// invokerFunc is an Invoker in one function.
type invokerFunc func(ctx context.Context, l lease.Lease) (lease.Result, error)

func (f invokerFunc) Invoke(ctx context.Context, l lease.Lease) (lease.Result, error) {
	return f(ctx, l)
}

// A function or worker that answers with an impossible result (a negative
// count, another task's result) or whose invocation panics fails its task
// with a trace; the coordinator stays up and keeps serving other
// connectors. Before, records=-1 panicked a metrics counter in the task's
// goroutine and killed the process.
func TestBadResultsAndPanicsFailTheTaskNotTheCoordinator(t *testing.T) {
	tests := []struct {
		name   string
		invoke func(lease.Lease) lease.Result
		trace  string
	}{
		{name: "negative records", trace: "records -1 is negative", invoke: func(l lease.Lease) lease.Result {
			return lease.Result{LeaseID: l.ID, Connector: l.Connector, Task: l.Task, Epoch: l.Epoch, Status: lease.Succeeded, Records: -1}
		}},
		{name: "another epoch", trace: "are not the lease's", invoke: func(l lease.Lease) lease.Result {
			return lease.Result{LeaseID: l.ID, Connector: l.Connector, Task: l.Task, Epoch: l.Epoch + 7, Status: lease.Succeeded}
		}},
		{name: "unknown status", trace: "unknown status", invoke: func(l lease.Lease) lease.Result {
			return lease.Result{LeaseID: l.ID, Connector: l.Connector, Task: l.Task, Epoch: l.Epoch, Status: "done"}
		}},
		{name: "panic", trace: "invoker panicked: boom", invoke: func(lease.Lease) lease.Result { panic("boom") }},
	}
	k := kafkatest.Start(t, 1)
	cfg := testConfig()
	cfg.LeaseTimeout, cfg.TaskRetries = 2*time.Second, 0
	var bad func(lease.Lease) lease.Result
	coord := build(t, k, cfg, setup{wrap: func(inner coordinator.Invoker) coordinator.Invoker {
		return invokerFunc(func(ctx context.Context, l lease.Lease) (lease.Result, error) {
			if strings.HasPrefix(l.Connector, "bad-") {
				return bad(l), nil
			}
			return inner.Invoke(ctx, l)
		})
	}})
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad = tc.invoke
			name := "bad-" + strings.ReplaceAll(tc.name, " ", "-")
			props := datagenProps(10)
			props["name"] = name
			if err := coord.Add(props); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 20*time.Second, name+" task FAILED", func() bool {
				st := status(t, coord, name)
				return len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED"
			})
			if tr := status(t, coord, name).Tasks[0].Trace; !strings.Contains(tr, tc.trace) {
				t.Fatalf("trace %q does not say %q", tr, tc.trace)
			}
			if i == 0 {
				good := datagenProps(5)
				good["name"] = "good"
				if err := coord.Add(good); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, 20*time.Second, "the good connector running", func() bool {
				st := status(t, coord, "good")
				return st.Connector.State == "RUNNING" && len(st.Tasks) == 1 && st.Tasks[0].State == "RUNNING"
			})
		})
	}
}

// tasks.max above SLUICE_MAX_TASKS is a validation error on tasks.max
// (PUT .../config/validate reports it, a create is refused), and a
// connector already stored with one (by an older coordinator, or written
// to the configs topic directly) is FAILED while the others run. Before,
// tasks.max=1000000000 made the leader generate that many task configs.
func TestTasksMaxCapped(t *testing.T) {
	k := kafkatest.Start(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	other, err := state.Open(ctx, k.Client, state.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	huge := datagenProps(10)
	huge["name"], huge["tasks.max"] = "huge", "1000000000"
	if err := other.Configs.PutConnectorConfig(ctx, "huge", huge, state.TargetStarted); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.MaxTasks = 50
	coord := build(t, k, cfg, setup{})

	infos, err := coord.ValidateConnectorConfig(ctx, "Datagen", huge)
	if err != nil {
		t.Fatal(err)
	}
	var tasksMaxErrs []string
	for _, c := range infos.Configs {
		if c.Definition.Name == "tasks.max" {
			tasksMaxErrs = c.Value.Errors
		}
	}
	if infos.ErrorCount != 1 || len(tasksMaxErrs) != 1 || !strings.Contains(tasksMaxErrs[0], "at most 50 tasks") {
		t.Fatalf("validation: error_count %d, tasks.max errors %q", infos.ErrorCount, tasksMaxErrs)
	}
	fine := datagenProps(10)
	fine["tasks.max"] = "50"
	if infos, _ := coord.ValidateConnectorConfig(ctx, "Datagen", fine); infos.ErrorCount != 0 {
		t.Fatalf("tasks.max=50 has %d errors", infos.ErrorCount)
	}
	if _, _, err := coord.PutConnectorConfig(ctx, "huge", huge, true, ""); err == nil || !strings.Contains(err.Error(), "tasks.max") {
		t.Fatalf("creating a connector with tasks.max=1000000000: %v", err)
	}

	waitFor(t, 20*time.Second, "the stored huge connector FAILED", func() bool {
		return status(t, coord, "huge").Connector.State == "FAILED"
	})
	if tr := status(t, coord, "huge").Connector.Trace; !strings.Contains(tr, "at most 50 tasks") {
		t.Fatalf("trace %q", tr)
	}
	good := datagenProps(5)
	good["name"] = "good"
	if err := coord.Add(good); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the good connector running", func() bool {
		st := status(t, coord, "good")
		return st.Connector.State == "RUNNING" && len(st.Tasks) == 1 && st.Tasks[0].State == "RUNNING"
	})
}

// SLUICE_MAX_CONNECTORS bounds the connectors: creating one more is
// refused with 409 and a message naming the limit; updating an existing
// connector still works, and so does creating one after a deletion.
func TestMaxConnectors(t *testing.T) {
	k := kafkatest.Start(t, 1)
	cfg := testConfig()
	cfg.MaxConnectors = 2
	coord := build(t, k, cfg, setup{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitFor(t, 20*time.Second, "leadership", func() bool { _, self := coord.Leader(); return self })
	put := func(name string, replace bool) error {
		props := datagenProps(1)
		props["name"] = name
		_, _, err := coord.PutConnectorConfig(ctx, name, props, replace, "")
		return err
	}
	for _, name := range []string{"one", "two"} {
		if err := put(name, false); err != nil {
			t.Fatal(err)
		}
	}
	err := put("three", false)
	var se *rest.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusConflict || !strings.Contains(se.Message, "SLUICE_MAX_CONNECTORS (2)") {
		t.Fatalf("third connector: %v", err)
	}
	if err := put("two", true); err != nil {
		t.Fatalf("updating an existing connector at the limit: %v", err)
	}
	if err := coord.DeleteConnector(ctx, "one"); err != nil {
		t.Fatal(err)
	}
	if err := put("three", false); err != nil {
		t.Fatalf("after a deletion: %v", err)
	}
}
