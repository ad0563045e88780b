package e2e_test

import (
	"bufio"
	"fmt"
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

func (tl *timeline) String() string {
	if tl == nil {
		return ""
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "timeline (ms from the coordinator's start; all committed at %d):\n", tl.all.Milliseconds())
	for _, e := range tl.events {
		if e.at > tl.all+time.Second || e.msg == "REST request" {
			continue
		}
		who := "coord"
		if e.proc > 0 {
			who = fmt.Sprintf("fn%d", e.proc)
		}
		attrs := e.attrs
		if len(attrs) > 160 {
			attrs = attrs[:160] + "…"
		}
		fmt.Fprintf(&sb, "  %6d %-5s %-40s %s\n", e.at.Milliseconds(), who, e.msg, attrs)
	}
	return sb.String()
}
