package realkafka

import "testing"

// kafka-storage format takes a cluster id starting with "-" for an option:
// one id in 64 would fail a cluster's start.
func TestRandomClusterIDNeverStartsWithADash(t *testing.T) {
	for range 20_000 {
		if id := randomClusterID(); id[0] == '-' || len(id) != 22 {
			t.Fatalf("cluster id %q", id)
		}
	}
}
