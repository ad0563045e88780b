package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/kafka"
)

// ExportRequest asks for a sink connector's partitions to be exported up to
// Until (see the package documentation).
type ExportRequest struct {
	Connector string `json:"connector"`
	Until     Until  `json:"until"`
}

// Until is where an export stops: the high watermarks read when it starts
// ("now"), or given offsets of given partitions.
type Until struct {
	// Now exports every partition up to its high watermark.
	Now bool
	// Offsets are end offsets (exclusive) by "<topic>-<partition>"; only
	// these partitions are exported.
	Offsets map[string]int64
}

// MarshalJSON writes "now" or the offsets.
func (u Until) MarshalJSON() ([]byte, error) {
	if u.Now {
		return []byte(`"now"`), nil
	}
	return json.Marshal(u.Offsets)
}

// UnmarshalJSON reads "now" or an object of partition to offset.
func (u *Until) UnmarshalJSON(b []byte) error {
	*u = Until{}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if strings.EqualFold(strings.TrimSpace(s), "now") {
			u.Now = true
			return nil
		}
		if _, terr := time.Parse(time.RFC3339Nano, s); terr == nil {
			return fmt.Errorf("until %q: exporting up to a time is not supported (it needs an offsets-for-times lookup); use \"now\" or an object of \"<topic>-<partition>\" to offset", s)
		}
		return fmt.Errorf("until %q: must be \"now\" or an object of \"<topic>-<partition>\" to offset", s)
	}
	var m map[string]int64
	if err := json.Unmarshal(b, &m); err != nil || len(m) == 0 {
		return fmt.Errorf("until %s: must be \"now\" or a non-empty object of \"<topic>-<partition>\" to offset", b)
	}
	for k, off := range m {
		if _, ok := parsePartitionKey(k); !ok {
			return fmt.Errorf("until: %q is not \"<topic>-<partition>\"", k)
		}
		if off < 0 {
			return fmt.Errorf("until: %s offset %d is negative", k, off)
		}
	}
	u.Offsets = m
	return nil
}

// parsePartitionKey splits "<topic>-<partition>" at its last dash, as Lambda
// keys a Kafka event's records.
func parsePartitionKey(k string) (kafka.TopicPartition, bool) {
	i := strings.LastIndexByte(k, '-')
	if i <= 0 {
		return kafka.TopicPartition{}, false
	}
	p, err := strconv.ParseInt(k[i+1:], 10, 32)
	if err != nil || p < 0 {
		return kafka.TopicPartition{}, false
	}
	return kafka.TopicPartition{Topic: k[:i], Partition: int32(p)}, true
}

func partitionKey(topic string, partition int32) string {
	return topic + "-" + strconv.Itoa(int(partition))
}

// ExportSummary is the answer to an export request.
type ExportSummary struct {
	Connector string `json:"connector"`
	// Partitions are the partitions exported, sorted by topic and number.
	Partitions []PartitionSummary `json:"partitions"`
	// Complete says every partition reached its To.
	Complete bool `json:"complete"`
	// Leases counts the sink leases run; Records the records they put.
	Leases  int   `json:"leases"`
	Records int64 `json:"records"`
}

// PartitionSummary is one partition's export: the range [From, To) it was
// to export, and Done, the offset it reached (committed to
// connect-<connector>); [Done, To) remains for the next request. Records
// is Done-From: the offsets exported, which are the records less any gaps
// compaction or transaction markers leave.
type PartitionSummary struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	From      int64  `json:"from"`
	To        int64  `json:"to"`
	Done      int64  `json:"done"`
	Records   int64  `json:"records"`
}

func decodeExport(payload []byte) (ExportRequest, error) {
	var req ExportRequest
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("%w: export request: %v", ErrBadRequest, err)
	}
	if strings.TrimSpace(req.Connector) == "" {
		return req, fmt.Errorf("%w: export request: connector is empty", ErrBadRequest)
	}
	return req, nil
}

// export runs an export request.
func export(ctx context.Context, d Deps, payload []byte) (*ExportSummary, error) {
	req, err := decodeExport(payload)
	if err != nil {
		return nil, err
	}
	started := d.Now()
	sc, err := loadSink(ctx, d, req.Connector)
	if err != nil {
		return nil, err
	}
	log := d.Logger.With("connector", req.Connector)
	sum, err := plan(ctx, d, sc, req.Until)
	if err != nil {
		return nil, err
	}
	chunk := d.LeaseRecords
	if fs := flushSize(sc.connector); fs > 0 {
		chunk = max(fs, chunk/fs*fs)
	}

	deadline, hasDeadline := ctx.Deadline()
	var longest time.Duration
	for i := 0; ; i++ {
		ranges := nextRanges(sum.Partitions, chunk)
		if len(ranges) == 0 {
			sum.Complete = true
			break
		}
		now := d.Now()
		leaseDeadline := now.Add(d.LeaseTime)
		if hasDeadline {
			// An expired lease would commit nothing and be redone; not
			// starting it just saves the work.
			if need := max(d.MinLeaseTime, 2*longest); deadline.Sub(now) < need {
				log.Info("export stopped: not enough time left for another lease", "left", deadline.Sub(now), "needed", need)
				break
			}
			leaseDeadline = deadline
		}
		if ctx.Err() != nil {
			break
		}
		l := lease.Lease{
			ID:              fmt.Sprintf("%s-export-%d-%d", req.Connector, started.UnixMilli(), i),
			Kind:            lease.KindSink,
			Connector:       req.Connector,
			Deadline:        leaseDeadline,
			ConnectorConfig: sc.connector,
			TaskConfig:      sc.task,
			Budget:          lease.Budget{MaxTime: lease.Duration(leaseDeadline.Sub(now))},
			Ranges:          ranges,
		}
		res := d.Executor.Run(ctx, l)
		longest = max(longest, d.Now().Sub(now))
		sum.Leases++
		sum.Records += res.Records
		switch res.Status {
		case lease.Succeeded:
		case lease.Expired:
			log.Info("export stopped: lease expired", "lease", l.ID, "error", res.Error)
			return sum, nil
		default:
			return sum, &ExportError{Summary: *sum, LeaseID: l.ID, Err: res.Error, Trace: res.Trace}
		}
		if !advance(sum.Partitions, ranges, res.Committed) {
			// The task kept some records back (PreCommit returned less):
			// running the same range again would not help now.
			log.Warn("export stopped: the task did not commit all of its range", "lease", l.ID)
			return sum, nil
		}
	}
	return sum, nil
}

// plan lists the connector's partitions with the ranges to export.
func plan(ctx context.Context, d Deps, sc *sinkConfig, until Until) (*ExportSummary, error) {
	match, err := connect.SinkTopicMatcher(sc.connector)
	if err != nil {
		return nil, fmt.Errorf("%w: connector %s: %w", ErrBadRequest, sc.name, err)
	}
	topics, err := d.Kafka.TopicPartitions(ctx)
	if err != nil {
		return nil, err
	}
	var tps []kafka.TopicPartition
	for _, t := range slices.Sorted(maps.Keys(topics)) {
		if !match(t) {
			continue
		}
		for _, p := range topics[t] {
			tps = append(tps, kafka.TopicPartition{Topic: t, Partition: p})
		}
	}
	if !until.Now {
		var named []kafka.TopicPartition
		for k := range until.Offsets {
			tp, _ := parsePartitionKey(k)
			if !slices.Contains(tps, tp) {
				return nil, fmt.Errorf("%w: until names %s, which is not a partition of connector %s's topics", ErrBadRequest, k, sc.name)
			}
			named = append(named, tp)
		}
		tps = slices.DeleteFunc(tps, func(tp kafka.TopicPartition) bool { return !slices.Contains(named, tp) })
	}
	sum := &ExportSummary{Connector: sc.name, Partitions: []PartitionSummary{}}
	if len(tps) == 0 {
		return sum, nil
	}
	wms, err := d.Kafka.Watermarks(ctx, tps)
	if err != nil {
		return nil, err
	}
	committed, err := d.Kafka.CommittedOffsets(ctx, lease.GroupID(sc.name), tps)
	if err != nil {
		return nil, err
	}
	for _, tp := range tps {
		wm := wms[tp]
		from := max(committed[tp], wm.Low) // nothing committed, or deleted: the log start
		to := wm.High
		if !until.Now {
			to = min(to, until.Offsets[partitionKey(tp.Topic, tp.Partition)])
		}
		to = max(to, from)
		sum.Partitions = append(sum.Partitions, PartitionSummary{Topic: tp.Topic, Partition: tp.Partition, From: from, To: to, Done: from})
	}
	return sum, nil
}

// flushSize is the connector's flush.size, 0 when it has none.
func flushSize(cfg map[string]string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(cfg["flush.size"]), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// nextRanges returns the next chunk of each partition not done: chunk
// offsets from where it is, or what is left.
func nextRanges(parts []PartitionSummary, chunk int64) []lease.Range {
	var out []lease.Range
	for _, p := range parts {
		if p.Done < p.To {
			out = append(out, lease.Range{Topic: p.Topic, Partition: p.Partition, Start: p.Done, End: min(p.To, p.Done+chunk)})
		}
	}
	return out
}

// advance records what a lease committed. It returns false when a range
// was not committed to its end.
func advance(parts []PartitionSummary, ranges, committed []lease.Range) bool {
	all := true
	for _, rg := range ranges {
		end := rg.Start
		for _, c := range committed {
			if c.Topic == rg.Topic && c.Partition == rg.Partition {
				end = c.End
			}
		}
		if end < rg.End {
			all = false
		}
		for i := range parts {
			if parts[i].Topic == rg.Topic && parts[i].Partition == rg.Partition && end > parts[i].Done {
				parts[i].Done = end
				parts[i].Records = end - parts[i].From
			}
		}
	}
	return all
}
