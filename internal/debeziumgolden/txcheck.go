package debeziumgolden

import (
	"maps"
	"slices"
	"testing"
)

// TxItem is what a transaction metadata test reads: a record of the
// transaction topic (Status BEGIN or END and ID; an END record's Count
// and Per, its events by data collection), or a change event with its
// transaction block (ID, Total and PerTable orders) in Table, Desc being
// its op and row, to find a change emitted twice.
type TxItem struct {
	Status, ID      string
	Count           int64
	Per             map[string]int64
	Table, Desc     string
	Total, PerTable int64
}

// ByTransaction groups changes by transaction, each table's in the order
// given; a change that arrived twice fails the test.
func ByTransaction(t testing.TB, changes []TxItem) map[string][]TxItem {
	t.Helper()
	byTx := map[string][]TxItem{}
	seen := map[string]bool{}
	for _, c := range changes {
		if seen[c.Table+" "+c.Desc] {
			t.Fatalf("change %s of %s arrived twice", c.Desc, c.Table)
		}
		seen[c.Table+" "+c.Desc] = true
		byTx[c.ID] = append(byTx[c.ID], c)
	}
	return byTx
}

// CheckOrders checks a transaction's changes against its END record:
// total orders 1..n, data collection orders 1..k in each table's order,
// and the END record's counts equal to them. It returns the changes'
// counts by table.
func CheckOrders(t testing.TB, id string, cs []TxItem, end TxItem) map[string]int64 {
	t.Helper()
	totals := make([]int64, len(cs))
	perTable := map[string][]int64{}
	for i, c := range cs {
		totals[i] = c.Total
		perTable[c.Table] = append(perTable[c.Table], c.PerTable)
	}
	slices.Sort(totals)
	for i, o := range totals {
		if o != int64(i+1) {
			t.Fatalf("transaction %s: total orders %v, want 1..%d", id, totals, len(cs))
		}
	}
	counts := map[string]int64{}
	for table, orders := range perTable {
		for i, o := range orders {
			if o != int64(i+1) {
				t.Fatalf("transaction %s: data collection orders of %s %v, want 1..%d", id, table, orders, len(orders))
			}
		}
		counts[table] = int64(len(orders))
	}
	if end.Count != int64(len(cs)) || !maps.Equal(end.Per, counts) {
		t.Fatalf("transaction %s: END counts %d %v, its changes %d %v", id, end.Count, end.Per, len(cs), counts)
	}
	return counts
}
