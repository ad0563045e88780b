package sink

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// fieldPartitioner is Confluent's FieldPartitioner: <field>=<value> for
// each field of partition.field.name, joined by directory.delim.
//
// Confluent accepts only Struct values; Sluice also accepts schemaless Map
// values (what JsonConverter with schemas.enable=false gives), whose field
// values must be strings, integers or booleans.
type fieldPartitioner struct {
	defaultPartitioner
	fields []string
}

func (p fieldPartitioner) Encode(r *connect.SinkRecord) (string, error) {
	var b strings.Builder
	for i, name := range p.fields {
		s, err := fieldString(r.Value, name)
		if err != nil {
			return "", encodeError(r, "Error encoding partition.", err)
		}
		if i > 0 {
			b.WriteString(p.delim)
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(s)
	}
	return b.String(), nil
}

// fieldString renders a partitioning field as Java's toString does.
func fieldString(value any, name string) (string, error) {
	switch v := value.(type) {
	case *data.Struct:
		f := v.Schema().Field(name)
		if f == nil {
			return "", fmt.Errorf("%s is not a valid field name", name)
		}
		val := v.Get(name)
		if val == nil {
			return "", fmt.Errorf("field %s is null", name)
		}
		switch f.Schema.Type {
		case data.TypeInt8, data.TypeInt16, data.TypeInt32, data.TypeInt64, data.TypeString, data.TypeBoolean:
			return scalarString(val)
		}
		return "", fmt.Errorf("type %s is not supported as a partition key", strings.ToUpper(string(f.Schema.Type)))
	case map[string]any:
		return mapFieldString(v[name], name)
	case map[any]any:
		return mapFieldString(v[name], name)
	case nil:
		return "", fmt.Errorf("value is null")
	}
	return "", fmt.Errorf("value is not Struct type")
}

func mapFieldString(v any, name string) (string, error) {
	if v == nil {
		return "", fmt.Errorf("field %s is missing or null", name)
	}
	s, err := scalarString(v)
	if err != nil {
		return "", fmt.Errorf("field %s: %w", name, err)
	}
	return s, nil
}

func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int8:
		return strconv.FormatInt(int64(x), 10), nil
	case int16:
		return strconv.FormatInt(int64(x), 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	}
	return "", fmt.Errorf("type %T is not supported as a partition key", v)
}

func encodeError(r *connect.SinkRecord, msg string, err error) *EncodeError {
	return &EncodeError{Topic: r.Topic, Partition: r.KafkaPartition(), Offset: r.Offset, Msg: msg, Err: err}
}
