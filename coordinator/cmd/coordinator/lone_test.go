package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/proctest"
)

// loneStarts is how many times TestLoneCoordinatorCreatesItsConnectorFile
// starts a coordinator: SLUICE_TEST_LONE_STARTS, or 5 (make test);
// make test-lone-starts runs 50.
func loneStarts(t *testing.T) int {
	t.Helper()
	v := os.Getenv("SLUICE_TEST_LONE_STARTS")
	if v == "" {
		return 5
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("SLUICE_TEST_LONE_STARTS=%q: want a positive number", v)
	}
	return n
}

// A lone coordinator in distributed mode, started on a fresh broker with
// one connector file, creates that connector every time: it never takes
// its own URL for another coordinator's while its election settles.
func TestLoneCoordinatorCreatesItsConnectorFile(t *testing.T) {
	t.Parallel()
	n := loneStarts(t)
	file := filepath.Join(t.TempDir(), "lone-datagen.properties")
	props := "name=lone-datagen\nconnector.class=Datagen\ntopic=lone\nrate=10\n"
	if err := os.WriteFile(file, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	created, waited := 0, 0
	for i := range n {
		t.Run(fmt.Sprintf("start-%02d", i+1), func(t *testing.T) {
			broker := startBroker(t)
			addr := proctest.FreeAddr(t)
			p := startProcess(t, fmt.Sprintf("lone-%02d", i+1), addr, coordinatorEnv(broker, addr), file)
			proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
				if p.Exited() {
					t.Fatalf("the coordinator exited: %v", p.Err())
				}
				var names []string
				if err := getJSON(p.url()+"/connectors", &names); err != nil {
					return err
				}
				if !slices.Contains(names, "lone-datagen") {
					return fmt.Errorf("GET /connectors = %q, want lone-datagen; stdout:\n%s", names, p.Stdout.String())
				}
				return nil
			})
			if out := p.Stdout.String(); strings.Contains(out, "another coordinator leads") {
				t.Errorf("a lone coordinator saw another leader:\n%s", out)
			}
			if strings.Contains(p.Stdout.String(), "waiting for a leader") {
				waited++ // the election window: it waited, then created the connector
			}
			if !t.Failed() {
				created++
			}
		})
	}
	t.Logf("%d of %d lone starts created the connector (%d after waiting for their election to settle)", created, n, waited)
}

// A coordinator started with a connector file while another leads
// forwards the file's configuration to the leader, says so, and the
// leader runs the connector.
func TestFollowerForwardsItsConnectorFile(t *testing.T) {
	t.Parallel()
	broker := startBroker(t)
	leaderAddr := proctest.FreeAddr(t)
	leader := startProcess(t, "leader", leaderAddr, coordinatorEnv(broker, leaderAddr))
	proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		if !leader.leading() {
			return fmt.Errorf("%s does not lead", leader.Name)
		}
		return nil
	})
	file := filepath.Join(t.TempDir(), "follower-datagen.properties")
	if err := os.WriteFile(file, []byte("name=follower-datagen\nconnector.class=Datagen\ntopic=follower\nrate=10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := proctest.FreeAddr(t)
	follower := startProcess(t, "follower", addr, coordinatorEnv(broker, addr), file)
	want := "Connector follower-datagen: forwarded to the leader " + leader.url() + ", which created it"
	proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		if !strings.Contains(follower.Stdout.String(), want) {
			return fmt.Errorf("the follower's output does not say %q:\n%s", want, follower.Stdout.String())
		}
		return nil
	})
	proctest.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
		var st connectorStatus
		if err := getJSON(follower.url()+"/connectors/follower-datagen/status", &st); err != nil {
			return err
		}
		if st.Connector.State != "RUNNING" || st.Connector.WorkerID != leaderAddr {
			return fmt.Errorf("follower-datagen is %s on %q, want RUNNING on the leader %s", st.Connector.State, st.Connector.WorkerID, leaderAddr)
		}
		return nil
	})
}

// GET /sluice/v1/cluster lists every coordinator of the group, from the
// election's group membership, and marks the one that leads, whichever
// coordinator answers.
func TestClusterListsEveryCoordinator(t *testing.T) {
	t.Parallel()
	broker := startBroker(t)
	leaderAddr := proctest.FreeAddr(t)
	leader := startProcess(t, "leader", leaderAddr, coordinatorEnv(broker, leaderAddr))
	proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		if !leader.leading() {
			return fmt.Errorf("%s does not lead", leader.Name)
		}
		return nil
	})
	addr := proctest.FreeAddr(t)
	follower := startProcess(t, "follower", addr, coordinatorEnv(broker, addr))
	type coordinator struct {
		ID     string `json:"id"`
		URL    string `json:"url"`
		Leader bool   `json:"leader"`
		Self   bool   `json:"self"`
	}
	for _, p := range []*process{leader, follower} {
		proctest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
			if p.Exited() {
				t.Fatalf("%s exited: %v", p.Name, p.Err())
			}
			var cluster struct {
				URL          string        `json:"url"`
				Leader       string        `json:"leader"`
				Coordinators []coordinator `json:"coordinators"`
			}
			if err := getJSON(p.url()+"/sluice/v1/cluster", &cluster); err != nil {
				return err
			}
			cs := cluster.Coordinators
			if cluster.URL != p.url() || cluster.Leader != leader.url() || len(cs) != 2 {
				return fmt.Errorf("%s: cluster %+v, want url %s, leader %s and two coordinators", p.Name, cluster, p.url(), leader.url())
			}
			// Oldest first: the leader, then the follower.
			want := []coordinator{
				{URL: leader.url(), Leader: true, Self: p == leader},
				{URL: follower.url(), Leader: false, Self: p == follower},
			}
			for i, c := range cs {
				if c.ID == "" || c.URL != want[i].URL || c.Leader != want[i].Leader || c.Self != want[i].Self {
					return fmt.Errorf("%s: coordinators %+v, want %+v (any non-empty ids)", p.Name, cs, want)
				}
			}
			return nil
		})
	}
}
