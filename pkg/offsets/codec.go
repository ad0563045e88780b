package offsets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Entry is one source partition's offset.
type Entry struct {
	// Partition identifies the source partition (Connect's sourcePartition),
	// for example {"filename":"/tmp/in.txt"}.
	Partition map[string]any
	// Offset is the position within the partition (Connect's sourceOffset),
	// for example {"position":1234}. A nil Offset deletes the entry.
	Offset map[string]any
}

// EncodeKey returns the offset key for a connector's source partition in
// Connect's format, ["<connector>",{<partition>}], as compact JSON with object
// keys sorted so that equal partitions always give equal bytes.
func EncodeKey(connector string, partition map[string]any) ([]byte, error) {
	p, err := normalize(partition)
	if err != nil {
		return nil, fmt.Errorf("offsets: encode key for connector %q: %w", connector, err)
	}
	b, err := marshal([]any{connector, p})
	if err != nil {
		return nil, fmt.Errorf("offsets: encode key for connector %q: %w", connector, err)
	}
	return b, nil
}

// DecodeKey parses an offset key written by Connect or by EncodeKey. Numbers
// in the partition decode as DecodeValue describes.
func DecodeKey(b []byte) (connector string, partition map[string]any, err error) {
	var parts []json.RawMessage
	if err := unmarshal(b, &parts); err != nil {
		return "", nil, fmt.Errorf("%w %q: %v", ErrInvalidKey, truncate(b), err)
	}
	if len(parts) != 2 {
		return "", nil, fmt.Errorf("%w %q: array has %d elements, want 2", ErrInvalidKey, truncate(b), len(parts))
	}
	if err := unmarshal(parts[0], &connector); err != nil {
		return "", nil, fmt.Errorf("%w %q: connector name: %v", ErrInvalidKey, truncate(b), err)
	}
	var p any
	if err := unmarshal(parts[1], &p); err != nil {
		return "", nil, fmt.Errorf("%w %q: partition: %v", ErrInvalidKey, truncate(b), err)
	}
	switch p := p.(type) {
	case nil:
		return connector, nil, nil
	case map[string]any:
		return connector, convertMap(p), nil
	default:
		return "", nil, fmt.Errorf("%w %q: partition is %T, want an object", ErrInvalidKey, truncate(b), p)
	}
}

// EncodeValue returns the offset value in Connect's format: a compact JSON
// object with sorted keys. A nil offset encodes as nil, a tombstone.
// Integral float64 values keep a decimal point (1.0), so they decode as
// float64 again, as Java's Double would.
func EncodeValue(offset map[string]any) ([]byte, error) {
	if offset == nil {
		return nil, nil
	}
	o, err := normalize(offset)
	if err != nil {
		return nil, fmt.Errorf("offsets: encode value: %w", err)
	}
	b, err := marshal(o)
	if err != nil {
		return nil, fmt.Errorf("offsets: encode value: %w", err)
	}
	return b, nil
}

// DecodeValue parses an offset value. Nil or empty bytes (a tombstone) and
// JSON null decode as a nil map. Integral numbers decode as int64 (Java's
// Long), all other numbers as float64; nested objects and arrays are converted
// the same way.
func DecodeValue(b []byte) (map[string]any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var v any
	if err := unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrInvalidValue, truncate(b), err)
	}
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return convertMap(v), nil
	default:
		return nil, fmt.Errorf("%w %q: value is %T, want an object", ErrInvalidValue, truncate(b), v)
	}
}

// PartitionID returns a canonical string for a source partition (its sorted
// compact JSON), usable as a map key: two partitions with equal contents have
// equal IDs whatever their key order or numeric Go types. A partition that
// cannot be encoded as JSON gets a best-effort fmt representation.
func PartitionID(partition map[string]any) string {
	p, err := normalize(partition)
	if err != nil {
		return fmt.Sprintf("%v", partition)
	}
	b, err := marshal(p)
	if err != nil {
		return fmt.Sprintf("%v", partition)
	}
	return string(b)
}

// marshal encodes v as compact JSON without HTML escaping (Jackson, which
// Connect uses, does not escape <, > or &). encoding/json sorts map keys.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

func unmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

// normalize copies maps and slices of any, replacing floats by json.Number so
// that integral floats keep a decimal point and NaN/Inf are reported clearly.
// Other values are left for encoding/json.
func normalize(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return v, nil
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			n, err := normalize(e)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", k, err)
			}
			out[k] = n
		}
		return out, nil
	case []any:
		if v == nil {
			return v, nil
		}
		out := make([]any, len(v))
		for i, e := range v {
			n, err := normalize(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = n
		}
		return out, nil
	case float64:
		return floatNumber(v)
	case float32:
		return floatNumber(float64(v))
	default:
		return v, nil
	}
}

func floatNumber(f float64) (json.Number, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("unsupported float value %v", f)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !bytes.ContainsAny([]byte(s), ".eE") {
		s += ".0"
	}
	return json.Number(s), nil
}

// convertMap and convert turn json.Number into int64 or float64, recursively.
func convertMap(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = convert(v)
	}
	return m
}

func convert(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(string(v), 64) // out of range saturates to ±Inf with an error we accept
		return f
	case map[string]any:
		return convertMap(v)
	case []any:
		for i, e := range v {
			v[i] = convert(e)
		}
		return v
	default:
		return v
	}
}

func truncate(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
