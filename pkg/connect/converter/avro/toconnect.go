package avro

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Avro properties and names that Confluent's AvroData reads and writes.
const (
	connectNameProp       = "connect.name"
	connectDocProp        = "connect.doc"
	connectVersionProp    = "connect.version"
	connectDefaultProp    = "connect.default"
	connectParametersProp = "connect.parameters"
	connectTypeProp       = "connect.type"
	connectInternalType   = "connect.internal.type"
	connectRecordDocParam = "connect.record.doc"
	// DecimalPrecisionParam is the Connect Decimal parameter that keeps the
	// Avro decimal's precision when it is not 64.
	DecimalPrecisionParam = "connect.decimal.precision"
	defaultPrecision      = 64
	// FixedSizeParam is the Connect BYTES parameter that keeps an Avro
	// fixed's size.
	FixedSizeParam = "connect.fixed.size"
	// EnumParam is the Connect STRING parameter naming the Avro enum; each
	// symbol is a further parameter EnumParam + "." + symbol.
	EnumParam = "io.confluent.connect.avro.Enum"
	// UnionName is the name of the Connect STRUCT an Avro union other than
	// [null, T] becomes: one optional field per member.
	UnionName = "io.confluent.connect.avro.Union"
	// Namespace and DefaultName are the Avro name of an unnamed Connect
	// STRUCT, which reads back without a name.
	Namespace   = "io.confluent.connect.avro"
	DefaultName = "ConnectDefault"
	// MapEntryName is the record of the array a Connect MAP with non-string
	// keys becomes.
	MapEntryName = "MapEntry"
)

// kind is how a node is read and written.
type kind uint8

const (
	kBool kind = iota
	kInt8
	kInt16
	kInt32
	kInt64
	kFloat32
	kFloat64
	kString
	kBytes
	kFixed
	kEnum
	kDecimal
	kDate
	kTimeMillis
	kTimestampMillis
	kArray
	kMap       // Avro map: string keys
	kMapArray  // Avro array of MapEntry records: any keys
	kStruct    // Avro record
	kOptional  // Avro [null, T] or [T, null]
	kUnion     // other Avro unions: a Connect Union struct
	kTimeMicro // time-micros, read as INT64
	kTSMicro   // timestamp-micros, read as INT64
)

// node is a compiled pair of an Avro schema and the Connect schema it maps
// to; the codec walks it to read and write values.
type node struct {
	kind    kind
	connect *data.Schema
	// fields are a record's (kStruct) fields in Avro order; for kMapArray
	// the key and value.
	fields []*node
	// elem is an array's element or a map's value; key a kMapArray's key.
	elem, key *node
	// branches are a kUnion's or kOptional's Avro members, nil for null;
	// field[i] is the Connect field index of branch i.
	branches []*node
	nullIdx  int
	symbols  []string
	size     int
	scale    int32
}

// defaultToConnect converts a default as the schema parser gave it into a
// Connect value of schema s (AvroData.defaultValueFromAvro).
func defaultToConnect(n *node, s *data.Schema, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch n.kind {
	case kOptional:
		for _, br := range n.branches {
			if br != nil {
				return defaultToConnect(br, br.connect, v)
			}
		}
	case kUnion:
		return nil, nil // Confluent keeps no default for a Union struct.
	case kBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case kInt8, kInt16, kInt32, kInt64, kDate, kTimeMillis, kTimestampMillis, kTimeMicro, kTSMicro:
		var i int64
		switch x := v.(type) {
		case float64:
			i = int64(x)
		case float32:
			i = int64(x)
		case int:
			i = int64(x)
		case int32:
			i = int64(x)
		case int64:
			i = x
		case json.Number:
			i, _ = x.Int64()
		default:
			return nil, fmt.Errorf("not a number")
		}
		switch n.kind {
		case kInt8:
			return int8(i), nil
		case kInt16:
			return int16(i), nil
		case kInt32:
			return int32(i), nil
		case kDate:
			return time.UnixMilli(i * 86400000).UTC(), nil
		case kTimeMillis:
			return time.UnixMilli(i).UTC(), nil
		case kTimestampMillis:
			return time.UnixMilli(i).UTC(), nil
		}
		return i, nil
	case kFloat32, kFloat64:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case float32:
			f = float64(x)
		case int64:
			f = float64(x)
		case int32:
			f = float64(x)
		default:
			return nil, fmt.Errorf("not a number")
		}
		if n.kind == kFloat32 {
			return float32(f), nil
		}
		return f, nil
	case kString, kEnum:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case kBytes, kFixed, kDecimal:
		var raw []byte
		switch x := v.(type) {
		case string:
			raw = latin1(x)
		case []byte:
			raw = x
		default:
			return nil, fmt.Errorf("not bytes")
		}
		if n.kind == kDecimal {
			return data.Decimal{Unscaled: fromTwos(raw), Scale: n.scale}, nil
		}
		return raw, nil
	case kArray:
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("not an array")
		}
		out := make([]any, len(arr))
		for i, e := range arr {
			ev, err := defaultToConnect(n.elem, n.elem.connect, e)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case kMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not an object")
		}
		out := make(map[any]any, len(m))
		for k, e := range m {
			ev, err := defaultToConnect(n.elem, n.elem.connect, e)
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	case kMapArray:
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("not an array")
		}
		out := make(map[any]any, len(arr))
		for _, e := range arr {
			m, _ := e.(map[string]any)
			k, err := defaultToConnect(n.key, n.key.connect, m["key"])
			if err != nil {
				return nil, err
			}
			ev, err := defaultToConnect(n.elem, n.elem.connect, m["value"])
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	case kStruct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not an object")
		}
		st := data.NewStruct(s)
		for i, f := range s.Fields {
			fv, present := m[f.Name]
			if !present {
				continue
			}
			cv, err := defaultToConnect(n.fields[i], f.Schema, fv)
			if err != nil {
				return nil, err
			}
			if err := st.Put(f.Name, cv); err != nil {
				return nil, err
			}
		}
		return st, nil
	}
	return nil, fmt.Errorf("does not fit %s", s.Type)
}

// latin1 turns a JSON string holding bytes (Avro's encoding of bytes
// defaults: one char per byte) back into bytes.
func latin1(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		out = append(out, byte(r))
	}
	return out
}

func fromTwos(b []byte) *big.Int {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return x
}

func splitName(full string) (namespace, name string) {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "", full
}
