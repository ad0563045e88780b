package debezium

import (
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
)

// The keys of a transaction's context in a source offset, as Debezium's
// TransactionContext stores it: the transaction's id, and for each data
// collection the events of it so far (the total order is their sum).
const (
	TxIDOffsetKey          = "transaction_id"
	TxCountOffsetKeyPrefix = "transaction_data_collection_order_"
)

// TxContextOf reads the transaction context of a committed offset: the
// transaction's id ("" when the offset is between transactions) and its
// events so far by data collection.
func TxContextOf(off map[string]any) (id string, counts map[string]int64) {
	id, _ = off[TxIDOffsetKey].(string)
	if id == "" {
		return "", nil
	}
	counts = map[string]int64{}
	for k, v := range off {
		if c, ok := strings.CutPrefix(k, TxCountOffsetKeyPrefix); ok {
			if n, err := connect.OffsetPosition(v); err == nil && n > 0 {
				counts[c] = n
			}
		}
	}
	return id, counts
}
