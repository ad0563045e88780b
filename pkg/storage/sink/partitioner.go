// A partitioner decides the directory a record goes to in a storage sink:
// Confluent's partitioners (io.confluent.connect.storage.partitioner) with
// their class names, configuration keys and encoded partitions, so that
// objects land where Confluent's S3 and HDFS sink connectors put them and
// downstream readers (Hive, Athena, Spark) keep working. The partitioner_*
// files hold them.
//
//	DefaultPartitioner    partition=<kafka partition>
//	FieldPartitioner      <field>=<value>[/<field>=<value>...]
//	TimeBasedPartitioner  path.format applied to the record's time bucket
//	DailyPartitioner      year=YYYY/month=MM/day=dd
//	HourlyPartitioner     year=YYYY/month=MM/day=dd/hour=HH
//
// A record's directory is <topic><directory.delim><encoded partition>
// (Confluent's generatePartitionedPath). Partitioners are immutable and
// safe for concurrent use.

package sink

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// The partitioner class names, Confluent's.
const (
	DefaultPartitionerClass   = "io.confluent.connect.storage.partitioner.DefaultPartitioner"
	FieldPartitionerClass     = "io.confluent.connect.storage.partitioner.FieldPartitioner"
	TimeBasedPartitionerClass = "io.confluent.connect.storage.partitioner.TimeBasedPartitioner"
	DailyPartitionerClass     = "io.confluent.connect.storage.partitioner.DailyPartitioner"
	HourlyPartitionerClass    = "io.confluent.connect.storage.partitioner.HourlyPartitioner"
)

// PartitionerClasses lists the partitioner class names.
func PartitionerClasses() []string {
	return []string{DefaultPartitionerClass, FieldPartitionerClass, TimeBasedPartitionerClass, DailyPartitionerClass, HourlyPartitionerClass}
}

// classByName resolves a class name or its simple name
// ("HourlyPartitioner").
func classByName(name string) (string, bool) {
	name = strings.TrimSpace(name)
	for _, c := range PartitionerClasses() {
		if name == c || name == c[strings.LastIndexByte(c, '.')+1:] {
			return c, true
		}
	}
	return "", false
}

// Partitioner encodes a record's partition (Confluent's Partitioner).
type Partitioner interface {
	// Encode returns the record's encoded partition, for example
	// "partition=3" or "year=2015/month=04". The error is an
	// *EncodeError for a record the partitioner cannot place.
	Encode(r *connect.SinkRecord) (string, error)
	// Path returns the directory of an encoded partition below topics.dir:
	// <topic><directory.delim><encoded>.
	Path(topic, encoded string) string
}

// Timed is implemented by the time-based partitioners: the timestamp
// extractor they use, which the sink also uses for rotate.interval.ms (as
// Confluent's TopicPartitionWriter does).
type Timed interface {
	Extractor() Extractor
}

// NewPartitioner builds the partitioner that props configure (the keys of PartitionerConfig;
// other keys are ignored).
func NewPartitioner(props map[string]string) (Partitioner, error) {
	vals, err := PartitionerConfig().Parse(props)
	if err != nil {
		return nil, err
	}
	return PartitionerFromValues(vals)
}

// PartitionerFromValues builds the partitioner from parsed configuration values that
// include PartitionerConfig's keys.
func PartitionerFromValues(v *config.Values) (Partitioner, error) {
	class, _ := classByName(v.Class(PartitionerClassConfig))
	delim := v.String(DirectoryDelimConfig)
	base := defaultPartitioner{delim: delim}
	switch class {
	case DefaultPartitionerClass:
		return base, nil
	case FieldPartitionerClass:
		fields := v.List(FieldNameConfig)
		if len(fields) == 0 {
			return nil, config.InvalidValue(FieldNameConfig, "", "FieldPartitioner needs at least one field name")
		}
		return fieldPartitioner{defaultPartitioner: base, fields: fields}, nil
	case TimeBasedPartitionerClass, DailyPartitionerClass, HourlyPartitionerClass:
		return newTimeBased(class, v, base)
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownPartitionerClass, v.Class(PartitionerClassConfig))
}

// defaultPartitioner is Confluent's DefaultPartitioner.
type defaultPartitioner struct{ delim string }

func (p defaultPartitioner) Encode(r *connect.SinkRecord) (string, error) {
	if n := r.KafkaPartition(); n >= 0 && int(n) < len(partitionEncodings) {
		return partitionEncodings[n], nil
	}
	return "partition=" + strconv.Itoa(int(r.KafkaPartition())), nil
}

// partitionEncodings are DefaultPartitioner's encodings of the first
// partitions, made once rather than for every record.
var partitionEncodings = func() (out [256]string) {
	for i := range out {
		out[i] = "partition=" + strconv.Itoa(i)
	}
	return out
}()

func (p defaultPartitioner) Path(topic, encoded string) string { return topic + p.delim + encoded }
