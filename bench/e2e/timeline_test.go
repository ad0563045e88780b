package e2e_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// event is one log line of a process, at its offset from the
// coordinator's start.
type event struct {
	at    time.Duration
	proc  int // 0: the coordinator; i: the i-th function process
	msg   string
	attrs string
}

// timeline is where a run's time went, from the processes' logs.
type timeline struct {
	all    time.Duration
	events []event
}

// parseTimeline reads slog text lines (time=... level=... msg=...) of
// each process's log.
func parseTimeline(t0 time.Time, all time.Duration, logs ...string) *timeline {
	tl := &timeline{all: all}
	for i, log := range logs {
		sc := bufio.NewScanner(strings.NewReader(log))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "{") {
				if e, ok := jsonEvent(t0, line); ok {
					e.proc = i
					tl.events = append(tl.events, e)
				}
				continue
			}
			ts, rest, ok := strings.Cut(strings.TrimPrefix(line, "time="), " ")
			if !ok || !strings.HasPrefix(line, "time=") {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil {
				continue
			}
			_, rest, _ = strings.Cut(rest, " ") // level
			msg, attrs := splitMsg(strings.TrimPrefix(rest, "msg="))
			tl.events = append(tl.events, event{at: at.Sub(t0), proc: i, msg: msg, attrs: attrs})
		}
	}
	return tl
}

// durationKeys are the attributes that hold durations.
var durationKeys = map[string]bool{"start": true, "fetch_put": true, "of_which_put": true, "flush_commit": true, "took": true, "duration": true}

// jsonEvent reads a line of slog's JSON handler (the functions' logs).
func jsonEvent(t0 time.Time, line string) (event, bool) {
	var m map[string]any
	if json.Unmarshal([]byte(line), &m) != nil {
		return event{}, false
	}
	ts, _ := m["time"].(string)
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return event{}, false
	}
	msg, _ := m["msg"].(string)
	var attrs []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch k {
		case "time", "level", "msg", "function", "mode", "connector", "epoch":
			continue
		}
		v := m[k]
		if ns, ok := v.(float64); ok && durationKeys[k] {
			// slog's JSON handler writes durations in nanoseconds.
			v = time.Duration(ns).Round(time.Microsecond)
		}
		attrs = append(attrs, fmt.Sprintf("%s=%v", k, v))
	}
	return event{at: at.Sub(t0), msg: msg, attrs: strings.Join(attrs, " ")}, true
}

// splitMsg splits `"quoted message" attrs` or `word attrs`.
func splitMsg(s string) (string, string) {
	if strings.HasPrefix(s, `"`) {
		if i := strings.Index(s[1:], `"`); i >= 0 {
			return s[1 : i+1], strings.TrimSpace(s[i+2:])
		}
	}
	msg, attrs, _ := strings.Cut(s, " ")
	return msg, attrs
}

// attr returns the value of key in attrs (key=value, space-separated).
func attr(attrs, key string) string {
	for _, f := range strings.Fields(attrs) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// summary splits the time to all committed into start-up (to the
// connector running), the wait for the first lease, the time some lease
// was in flight, and the rest (no lease in flight: waiting).
func (tl *timeline) summary() string {
	var running, firstLease time.Duration
	issued := map[string]time.Duration{}
	type span struct{ from, to time.Duration }
	var spans []span
	for _, e := range tl.events {
		if e.proc != 0 {
			continue
		}
		switch e.msg {
		case "connector running":
			if running == 0 {
				running = e.at
			}
		case "lease issued":
			if firstLease == 0 {
				firstLease = e.at
			}
			issued[attr(e.attrs, "lease")] = e.at
		case "lease returned":
			id := attr(e.attrs, "lease")
			if from, ok := issued[id]; ok {
				spans = append(spans, span{from, e.at})
				delete(issued, id)
			}
		}
	}
	// A lease still running when everything was in is in flight to the end.
	for _, from := range issued {
		spans = append(spans, span{from, tl.all})
	}
	slices.SortFunc(spans, func(a, b span) int { return int(a.from - b.from) })
	var inFlight, end time.Duration
	for _, sp := range spans {
		from := max(sp.from, end)
		if sp.to > from {
			inFlight += sp.to - from
			end = sp.to
		}
	}
	if firstLease == 0 {
		return "no lease seen in the logs\n"
	}
	// The last lease returns just after its commit, which the benchmark
	// may see first: waiting is never negative.
	waiting := max(0, tl.all-firstLease-inFlight)
	return fmt.Sprintf("where the time went: start-up to connector running %d ms; then to the first lease %d ms; some lease in flight %d ms; no lease in flight after the first %d ms (%d leases)\n",
		running.Milliseconds(), (firstLease - running).Milliseconds(), inFlight.Milliseconds(),
		waiting.Milliseconds(), len(spans))
}

func (tl *timeline) String() string {
	if tl == nil {
		return ""
	}
	var sb strings.Builder
	sb.WriteString(tl.summary())
	fmt.Fprintf(&sb, "timeline (ms from the coordinator's start; all committed at %d):\n", tl.all.Milliseconds())
	for _, e := range tl.events {
		if e.at > tl.all+time.Second || e.msg == "REST request" {
			continue
		}
		who := "coord"
		if e.proc > 0 {
			who = fmt.Sprintf("fn%d", e.proc)
		}
		var kept []string
		for _, f := range strings.Fields(e.attrs) {
			if !strings.HasPrefix(f, "connector=") && !strings.HasPrefix(f, "epoch=") {
				kept = append(kept, f)
			}
		}
		attrs := strings.Join(kept, " ")
		if len(attrs) > 200 {
			attrs = attrs[:200] + "…"
		}
		fmt.Fprintf(&sb, "  %6d %-5s %-40s %s\n", e.at.Milliseconds(), who, e.msg, attrs)
	}
	return sb.String()
}
