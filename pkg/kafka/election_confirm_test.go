package kafka

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A leader whose heartbeats go unanswered (its group coordinator holds
// them: a broker outage, a partition) is replaced once the broker expires
// its session, before its own group session notices. Its confirmation has
// lapsed by then: when the other member first leads, the old leader still
// takes itself for the leader but ConfirmedUntil is past.
func TestElectionConfirmationLapsesBeforeAnotherIsElected(t *testing.T) {
	c := newCluster(t, kfake.GroupMinSessionTimeout(time.Second))
	var cut atomic.Bool
	var held atomic.Pointer[string]
	wake := make(chan struct{})
	var once sync.Once
	wakeUp := func() { once.Do(func() { close(wake) }) }
	t.Cleanup(wakeUp)
	c.ControlKey(int16(kmsg.Heartbeat), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if id := held.Load(); cut.Load() && id != nil && req.(*kmsg.HeartbeatRequest).MemberID == *id {
			c.SleepControl(func() { <-wake })
		}
		return nil, nil, false
	})
	client := dial(t, c)
	campaign := func(url string) *Election {
		t.Helper()
		e, err := client.Campaign(testCtx(t), ElectionOptions{Group: "sluice-confirm", Topic: "sluice-confirm-leader", URL: url, SessionTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	a := campaign("http://a:8083")
	waitFor("a to lead", a.Leading)
	if until := a.ConfirmedUntil(); !until.After(time.Now()) {
		t.Fatalf("a leads, confirmed until %v: a leader is confirmed when it starts leading", until)
	}
	if _, gen := a.Confirmed(); gen != a.Generation() {
		t.Errorf("a is confirmed in generation %d, joined %d", gen, a.Generation())
	}
	b := campaign("http://b:8083")
	var steady time.Time
	waitFor("a to lead alone for 2s", func() bool {
		if !b.Joined() || !a.Leading() || b.Leading() {
			steady = time.Time{}
			return false
		}
		if steady.IsZero() {
			steady = time.Now()
		}
		return time.Since(steady) > 2*time.Second
	})
	if b.ConfirmedUntil() != (time.Time{}) {
		t.Errorf("b follows, yet is confirmed until %v", b.ConfirmedUntil())
	}
	waitFor("a to be confirmed for a whole heartbeat again", func() bool { return time.Until(a.ConfirmedUntil()) > time.Second })
	members, err := a.Members()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.URL == "http://a:8083" {
			held.Store(&m.ID)
		}
	}
	if held.Load() == nil {
		t.Fatalf("a is not among %+v", members)
	}

	_, genA := a.Confirmed()
	cut.Store(true)
	cutAt := time.Now()
	waitFor("b to lead", b.Leading)
	elected := time.Now()
	until := a.ConfirmedUntil()
	t.Logf("b leads %s after a's heartbeats were cut; a still leads in its own view: %v, confirmed until %s before", elected.Sub(cutAt).Round(time.Millisecond), a.Leading(), elected.Sub(until).Round(time.Millisecond))
	if !a.Leading() {
		t.Log("a noticed before b led: the check below still holds, it shows less")
	}
	if !until.Before(elected) {
		t.Errorf("b leads at %s while a is confirmed until %s", elected.Format("15:04:05.000"), until.Format("15:04:05.000"))
	}
	if !b.ConfirmedUntil().After(time.Now()) {
		t.Errorf("b leads, confirmed until %v", b.ConfirmedUntil())
	}
	// Confirmed names the generation confirmed: b's, later than the one
	// a led in (a lease a recorded then must not be invoked in b's).
	if untilB, genB := b.Confirmed(); !untilB.After(time.Now()) || genB != b.Generation() || genB <= genA {
		t.Errorf("b is confirmed until %v in generation %d (it joined %d); a last led in %d", untilB, genB, b.Generation(), genA)
	}
	wakeUp()
	gen := b.Generation()
	waitFor("a to join b's generation or a later one", func() bool { return a.Generation() >= gen })
}
