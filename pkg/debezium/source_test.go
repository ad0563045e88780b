package debezium

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// TestPostgresSourceTemplate checks that the events of a transaction get
// their own position from one template, which they leave as it was.
func TestPostgresSourceTemplate(t *testing.T) {
	commit := time.Date(2026, 12, 7, 5, 0, 0, 123456000, time.UTC)
	src := PostgresSource{Common: Common{Connector: "postgresql", Name: "srv", DB: "db", Snapshot: SnapshotFalse, Time: commit},
		Schema: "public", Table: "items", TxID: 771, LastCommitLSN: 2000}
	tmpl := src.Template()
	tests := []struct {
		name     string
		lsn      int64
		sequence string
		want     any // lsn field
	}{
		{name: "event", lsn: 2100, sequence: `["2000","2100"]`, want: int64(2100)},
		{name: "another event", lsn: 23456789012, sequence: `["2000","23456789012"]`, want: int64(23456789012)},
		{name: "no lsn", lsn: 0, sequence: `["2000",null]`, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tmpl.At(tc.lsn)
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
			want := data.NewStruct(PostgresSourceSchema).Set("version", Version).Set("connector", "postgresql").Set("name", "srv").
				Set("ts_ms", commit.UnixMilli()).Set("db", "db").Set("sequence", tc.sequence).Set("ts_us", commit.UnixMicro()).
				Set("ts_ns", commit.UnixNano()).Set("schema", "public").Set("table", "items").Set("txId", int64(771))
			if tc.want != nil {
				want.Set("lsn", tc.want)
			}
			if !data.ValuesEqual(got, want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
			var boxed any
			if tc.lsn != 0 {
				boxed = tc.lsn
			}
			if got := tmpl.AtBoxed(tc.lsn, boxed); !data.ValuesEqual(got, want) {
				t.Errorf("AtBoxed: got  %v\nwant %v", got, want)
			}
			src.LSN = tc.lsn
			if s := src.Struct(); !data.ValuesEqual(s, want) {
				t.Errorf("Struct() = %v\nwant %v", s, want)
			}
		})
	}
	if tmpl.block.Get("lsn") != nil || tmpl.block.Get("sequence") != nil {
		t.Errorf("At changed the template: %v", tmpl.block)
	}
	src.LastCommitLSN = 0
	if got := src.Template().At(5).Get("sequence"); got != `[null,"5"]` {
		t.Errorf("sequence without a last commit = %v", got)
	}
}
