package postgrescdc

import "testing"

// TestStreamStartOf checks CommitOffsets' shortcut against parsePosition.
func TestStreamStartOf(t *testing.T) {
	tests := []struct {
		name string
		off  map[string]any
	}{
		{name: "none"},
		{name: "streamed", off: map[string]any{lsnKey: int64(500), lsnProcKey: int64(500), lsnCommitKey: int64(400), txIDKey: int64(7), eventKey: int64(3)}},
		{name: "streamed, no commit yet", off: map[string]any{lsnKey: int64(500)}},
		{name: "json numbers", off: map[string]any{lsnKey: float64(500), lsnCommitKey: float64(450)}},
		{name: "snapshot in progress", off: map[string]any{lsnKey: int64(100), snapshotKey: true, snapshotTableKey: "public.t"}},
		{name: "last snapshot record", off: map[string]any{lsnKey: int64(100), snapshotKey: true, lastSnapshotRecordKey: true}},
		{name: "heartbeat", off: map[string]any{lsnKey: int64(900), lsnProcKey: int64(900), lsnCommitKey: int64(900), eventKey: int64(0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := parsePosition(tc.off)
			wantOK := p != nil && !p.snapshotInProgress()
			got, ok := streamStartOf(tc.off)
			if ok != wantOK || ok && got != p.streamStart() {
				t.Errorf("streamStartOf = %v, %v; parsePosition says %v", got, ok, p)
			}
		})
	}
}
