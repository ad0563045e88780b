package offsets

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// logStore records each Write as "<name>:<ids>" (a removal's id prefixed
// with "-") in a shared log, and fails the Writes whose number (from 1)
// is in fail.
type logStore struct {
	name string
	log  *[]string
	fail map[int]bool
	n    *int
}

func (s logStore) Load(context.Context, string) (map[string]Entry, error) { return nil, nil }

func (s logStore) Write(_ context.Context, _ string, entries []Entry) error {
	*s.n++
	if s.fail[*s.n] {
		return fmt.Errorf("%s: write %d refused", s.name, *s.n)
	}
	w := s.name + ":"
	for _, e := range entries {
		if e.Offset == nil {
			w += "-"
		}
		w += fmt.Sprint(e.Partition["p"])
	}
	*s.log = append(*s.log, w)
	return nil
}

func TestWriteConnectorFirst(t *testing.T) {
	set := func(p int) Entry { return Entry{Partition: map[string]any{"p": p}, Offset: map[string]any{"o": 1}} }
	del := func(p int) Entry { return Entry{Partition: map[string]any{"p": p}} }
	tests := []struct {
		name          string
		entries       []Entry
		fail          map[int]bool // write numbers (in order, both stores) that fail
		wantLog       []string
		wantErr       bool
		wantSecondary bool // the secondary write's error is reported, not returned
	}{
		{name: "offsets: connector's, then worker's", entries: []Entry{set(1), set(2)},
			wantLog: []string{"connector:12", "worker:12"}},
		{name: "removals go to the worker's first", entries: []Entry{set(1), del(2)},
			wantLog: []string{"worker:-2", "connector:1-2", "worker:1"}},
		{name: "only removals: no third write", entries: []Entry{del(1)},
			wantLog: []string{"worker:-1", "connector:-1"}},
		{name: "connector's write fails: nothing to the worker's", entries: []Entry{set(1)}, fail: map[int]bool{1: true},
			wantErr: true},
		{name: "worker's removal fails: nothing to the connector's", entries: []Entry{del(1), set(2)}, fail: map[int]bool{1: true},
			wantErr: true},
		{name: "worker's secondary write fails: reported, not returned", entries: []Entry{set(1)}, fail: map[int]bool{2: true},
			wantLog: []string{"connector:1"}, wantSecondary: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			n := 0
			conn := logStore{name: "connector", log: &log, fail: tt.fail, n: &n}
			worker := logStore{name: "worker", log: &log, fail: tt.fail, n: &n}
			var secondary error
			err := WriteConnectorFirst(context.Background(), conn, worker, "c", tt.entries, func(err error) { secondary = errors.Join(secondary, err) })
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if (secondary != nil) != tt.wantSecondary {
				t.Fatalf("secondary error = %v, want one %v", secondary, tt.wantSecondary)
			}
			if !reflect.DeepEqual(log, tt.wantLog) {
				t.Fatalf("writes %q, want %q", log, tt.wantLog)
			}
		})
	}
}
