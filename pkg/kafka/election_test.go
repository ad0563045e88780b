package kafka

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestElectionOneLeaderAndHandover(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client, err := Dial(ctx, Config{Brokers: c.ListenAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	var els []*Election
	for i := range 3 {
		e, err := client.Campaign(ctx, ElectionOptions{Group: "sluice-test", Topic: "sluice-leader", URL: fmt.Sprintf("http://node%d:8083", i),
			SessionTimeout: 6 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		els = append(els, e)
	}
	defer func() {
		for _, e := range els {
			if e != nil {
				e.Close()
			}
		}
	}()

	// Candidates that start within the same instant may swap leadership
	// while they join (the oldest wins, and it may join last); once all
	// have joined, the leader stays.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("every candidate to join", func() bool {
		for _, e := range els {
			if !e.Joined() {
				return false
			}
		}
		return true
	})
	time.Sleep(time.Second)
	leader := waitLeader(t, els)
	time.Sleep(3 * time.Second)
	if again := waitLeader(t, els); again != leader {
		t.Fatalf("leadership moved from %s to %s in a settled group", leader.opts.URL, again.opts.URL)
	}

	// A candidate that joins later never takes leadership.
	late, err := client.Campaign(ctx, ElectionOptions{Group: "sluice-test", Topic: "sluice-leader", URL: "http://late:8083", SessionTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	els = append(els, late)
	waitFor("the late candidate to join", late.Joined)
	time.Sleep(time.Second)
	if again := waitLeader(t, els); again != leader {
		t.Fatalf("a joining candidate took leadership from %s (now %s)", leader.opts.URL, again.opts.URL)
	}
	for _, e := range els {
		if e == leader {
			continue
		}
		url, self, err := e.Leader()
		if err != nil || self || url != leader.opts.URL {
			// the cache may still be cold: retry within a bounded time
			deadline := time.Now().Add(10 * time.Second)
			for (err != nil || url != leader.opts.URL) && time.Now().Before(deadline) {
				time.Sleep(200 * time.Millisecond)
				url, self, err = e.Leader()
			}
			if err != nil || self || url != leader.opts.URL {
				t.Fatalf("follower sees leader %q (self %v, err %v), want %s", url, self, err, leader.opts.URL)
			}
		}
	}

	// Every candidate describes the whole group: all four members, with
	// their URLs, the leader marked, oldest first.
	for _, e := range els {
		var members []ElectionMember
		deadline := time.Now().Add(10 * time.Second)
		for {
			members, err = e.Members()
			if err == nil && len(members) == len(els) && members[len(members)-1].URL == "http://late:8083" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s describes members %+v (%v), want %d with the late one last", e.opts.URL, members, err, len(els))
			}
			time.Sleep(100 * time.Millisecond)
		}
		urls := map[string]bool{}
		for _, m := range members {
			urls[m.URL] = true
			if m.Leader != (m.URL == leader.opts.URL) || m.ID == "" || m.Since.IsZero() {
				t.Errorf("%s describes member %+v; the leader is %s", e.opts.URL, m, leader.opts.URL)
			}
		}
		for _, o := range els {
			if !urls[o.opts.URL] {
				t.Errorf("%s does not list %s among %+v", e.opts.URL, o.opts.URL, members)
			}
		}
	}

	start := time.Now()
	old := leader.opts.URL
	leader.Close()
	for i, e := range els {
		if e == leader {
			els[i] = nil
		}
	}
	next := waitLeader(t, els)
	if next.opts.URL == old {
		t.Fatal("the old leader is still leading")
	}
	t.Logf("leadership handed over in %s", time.Since(start))
}

// waitLeader waits until exactly one of els leads and returns it.
func waitLeader(t *testing.T, els []*Election) *Election {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var leaders []*Election
		for _, e := range els {
			if e != nil && e.Leading() {
				leaders = append(leaders, e)
			}
		}
		if len(leaders) == 1 {
			return leaders[0]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no single leader within 30s")
	return nil
}

// While a group session starts (the broker has assigned this member the
// election's partition; the session's Setup has not taken it yet), Leader
// answers as Leading does, from the described group and from its cache
// alike, and never names this member's own URL as another leader's.
func TestElectionLeaderWhileTheSessionStarts(t *testing.T) {
	c := newCluster(t, kfake.GroupMinSessionTimeout(time.Second))
	client := dial(t, c)
	inSetup, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	opts := ElectionOptions{Group: "sluice-window", Topic: "sluice-window-leader", URL: "http://self:8083", SessionTimeout: 2 * time.Second,
		beforeSetup: func() {
			once.Do(func() {
				close(inSetup)
				<-release
			})
		}}
	e, err := client.Campaign(testCtx(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	select {
	case <-inSetup:
	case <-time.After(30 * time.Second):
		t.Fatal("the group session did not start within 30s")
	}

	if described, err := e.describeLeader(); err != nil || described != opts.URL {
		t.Fatalf("not in the window: the group coordinator names %q (%v) as the leader, want this member %s", described, err, opts.URL)
	}
	e.mu.Lock()
	e.cachedAt = time.Time{} // the next Leader describes the group
	e.mu.Unlock()
	// The first call describes the group; the second answers from the cache.
	for _, path := range []string{"described", "cached"} {
		url, self, err := e.Leader()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if leading := e.Leading(); self != leading {
			t.Errorf("%s: Leader says self=%v (url %q), Leading says %v", path, self, url, leading)
		}
		if !self && url == opts.URL {
			t.Errorf("%s: Leader names this member's own URL %s as another leader's", path, url)
		}
	}

	close(release)
	released = true
	deadline := time.Now().Add(10 * time.Second)
	for !e.Leading() {
		if time.Now().After(deadline) {
			t.Fatal("not leading 10s after the session started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if url, self, err := e.Leader(); err != nil || !self || url != opts.URL {
		t.Fatalf("after Setup: Leader() = %q, %v, %v; want %s, true", url, self, err, opts.URL)
	}
}
