package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	pg "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/realkafka"
	"github.com/sluicehq/sluice/internal/s3test"
	"github.com/sluicehq/sluice/pkg/storage/store/s3store"
)

// idCounts counts how often each order id 0..n-1 was seen, in n small
// counters rather than a map, so that a run of 1,000,000 records checks in
// a few megabytes.
type idCounts struct {
	seen    []uint16
	unknown int // ids outside 0..n-1
	total   int
}

func newIDCounts(n int) *idCounts { return &idCounts{seen: make([]uint16, n)} }

func (c *idCounts) add(id int64) {
	c.total++
	if id < 0 || id >= int64(len(c.seen)) {
		c.unknown++
		return
	}
	if c.seen[id] < 1<<16-1 {
		c.seen[id]++
	}
}

// tally returns how many ids were seen, lost and seen more than once
// (each extra sighting counted).
func (c *idCounts) tally() (distinct, lost, dups int) {
	for _, s := range c.seen {
		switch {
		case s == 0:
			lost++
		default:
			distinct++
			dups += int(s) - 1
		}
	}
	return distinct, lost, dups
}

// committedRecord is a record a read_committed consumer saw: its offset
// and the order id of its value.
type committedRecord struct {
	offset, id int64
}

// committedOrders reads every partition of topic with a read_committed
// consumer until n records came and a few seconds more (anything more is
// a duplicate): the ids it saw and, per partition, its records in offset
// order.
func committedOrders(t *testing.T, c *realkafka.Cluster, topic string, n int) (*idCounts, map[int32][]committedRecord) {
	return readOrders(t, c, topic, n, kgo.ReadCommitted())
}

// readOrders reads every partition of topic with the isolation level
// given until n records came and a few seconds more.
func readOrders(t *testing.T, c *realkafka.Cluster, topic string, n int, isolation kgo.IsolationLevel) (*idCounts, map[int32][]committedRecord) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(isolation))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ids := newIDCounts(n)
	parts := map[int32][]committedRecord{}
	read := func(ctx context.Context) {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			id, err := orderID(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			ids.add(id)
			parts[r.Partition] = append(parts[r.Partition], committedRecord{r.Offset, id})
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute+time.Duration(n/10000)*time.Second)
	defer cancel()
	for ids.total < n && ctx.Err() == nil {
		read(ctx)
	}
	more, cancelMore := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelMore()
	for more.Err() == nil {
		read(more)
	}
	for p, recs := range parts {
		if !slices.IsSortedFunc(recs, func(a, b committedRecord) int { return int(a.offset - b.offset) }) {
			t.Fatalf("partition %d: the consumer's records are not in offset order", p)
		}
	}
	return ids, parts
}

// parquetObject is an S3 object of the sink: its key, the partition and
// first offset its name gives, and the order ids of its rows in order.
type parquetObject struct {
	key       string
	partition int32
	start     int64
	ids       []int64
}

// s3ParquetObjects reads every object under topics/ of the bucket, each of
// which must be a snappy Parquet file named as the storage sink names
// them (<topic>+<partition>+<start offset %010d>.snappy.parquet under
// partition=<p>/): a file that does not open, has a row without an
// order_id or whose footer's row count differs from its rows is a
// violation (a partial object), as is any other key.
func s3ParquetObjects(t *testing.T, srv *s3test.Server, topic string) ([]parquetObject, []string) {
	t.Helper()
	ctx := context.Background()
	store, err := s3store.Open(ctx, srv.Props())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	keys, err := store.List(ctx, "topics/")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^topics/` + regexp.QuoteMeta(topic) + `/partition=(\d+)/` + regexp.QuoteMeta(topic) + `\+(\d+)\+(\d{10})\.snappy\.parquet$`)
	var objects []parquetObject
	var bad []string
	for _, key := range slices.Sorted(slices.Values(keys)) {
		m := name.FindStringSubmatch(key)
		if m == nil || m[1] != m[2] {
			bad = append(bad, key+": not a name the sink writes")
			continue
		}
		p, _ := strconv.ParseInt(m[1], 10, 32)
		start, _ := strconv.ParseInt(m[3], 10, 64)
		rc, err := store.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		ids, err := parquetOrderIDs(b)
		if err != nil {
			bad = append(bad, key+": "+err.Error())
			continue
		}
		objects = append(objects, parquetObject{key: key, partition: int32(p), start: start, ids: ids})
	}
	return objects, bad
}

// parquetOrderIDs reads the order_id column of a Parquet file with
// parquet-go: every row has one, every column chunk is snappy, and the
// footer's row count is the rows read.
func parquetOrderIDs(b []byte) ([]int64, error) {
	pf, err := pg.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("not a Parquet file: %w", err)
	}
	leaf, ok := pf.Schema().Lookup("order_id")
	if !ok {
		return nil, fmt.Errorf("no order_id column in %s", pf.Schema())
	}
	for _, rg := range pf.Metadata().RowGroups {
		for _, cc := range rg.Columns {
			if cc.MetaData.Codec != format.Snappy {
				return nil, fmt.Errorf("column %v is %s, not snappy", cc.MetaData.PathInSchema, cc.MetaData.Codec)
			}
		}
	}
	var ids []int64
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		for {
			page, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return nil, err
			}
			vals := make([]pg.Value, page.NumValues())
			n, err := page.Values().ReadValues(vals)
			pg.Release(page)
			if err != nil && !errors.Is(err, io.EOF) {
				pages.Close()
				return nil, err
			}
			for _, v := range vals[:n] {
				if v.IsNull() {
					pages.Close()
					return nil, fmt.Errorf("a row without order_id")
				}
				ids = append(ids, v.Int64())
			}
		}
		pages.Close()
	}
	if int64(len(ids)) != pf.NumRows() {
		return nil, fmt.Errorf("%d order ids read, the footer says %d rows", len(ids), pf.NumRows())
	}
	return ids, nil
}

// tileObjects checks that the objects of each partition hold the
// partition's committed records exactly once, in order: sorted by their
// first offset, each object starts at a committed record's offset and
// holds the next committed records one for one (the same order ids),
// the next object starts at the committed record after its last one, and
// the last one ends at the partition's last committed record. So every
// committed offset is in exactly one object, and no object is partial,
// a duplicate, or holds a record a read_committed consumer does not see.
// It returns the violations found.
func tileObjects(objects []parquetObject, committed map[int32][]committedRecord) []string {
	byPart := map[int32][]parquetObject{}
	for _, o := range objects {
		byPart[o.partition] = append(byPart[o.partition], o)
	}
	parts := map[int32]bool{}
	for p := range committed {
		parts[p] = true
	}
	for p := range byPart {
		parts[p] = true
	}
	var bad []string
	for _, p := range slices.Sorted(maps.Keys(parts)) {
		recs, objs := committed[p], byPart[p]
		slices.SortFunc(objs, func(a, b parquetObject) int { return int(a.start - b.start) })
		next := 0 // index in recs of the first record no object holds yet
		for _, o := range objs {
			if next >= len(recs) {
				bad = append(bad, fmt.Sprintf("%s: starts at offset %d, after the partition's last committed record", o.key, o.start))
				continue
			}
			if o.start != recs[next].offset {
				what := "a gap before it"
				if o.start < recs[next].offset {
					what = "it overlaps the object before it or starts at an offset that is not a committed record"
				}
				bad = append(bad, fmt.Sprintf("%s: starts at offset %d, the next committed record is at %d: %s", o.key, o.start, recs[next].offset, what))
				// Go on from the object's first offset.
				j := slices.IndexFunc(recs, func(r committedRecord) bool { return r.offset >= o.start })
				if j < 0 || recs[j].offset != o.start {
					continue
				}
				next = j
			}
			for i, id := range o.ids {
				if next+i >= len(recs) || recs[next+i].id != id {
					want := "nothing"
					if next+i < len(recs) {
						want = fmt.Sprintf("order %d at offset %d", recs[next+i].id, recs[next+i].offset)
					}
					bad = append(bad, fmt.Sprintf("%s: row %d is order %d, the committed records have %s there", o.key, i, id, want))
					break
				}
			}
			next += len(o.ids)
		}
		if next < len(recs) {
			bad = append(bad, fmt.Sprintf("partition %d: the committed records from offset %d on (%d of them) are in no object", p, recs[next].offset, len(recs)-next))
		}
	}
	return bad
}
