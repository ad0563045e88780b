package avro

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	havro "github.com/hamba/avro/v2"

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

// toConnect compiles an Avro schema into a node, mapping it as Confluent's
// AvroData.toConnectSchema. version, when positive, is the registry's
// version of the top-level schema and becomes its Connect version unless
// the schema carries connect.version.
func (c *options) toConnect(s havro.Schema, version int) (*node, error) {
	n, err := c.toConnectNode(s, false, nil, "", version, map[string]*node{})
	if err != nil {
		return nil, &data.DataError{Msg: "Avro schema not supported: " + err.Error()}
	}
	return n, nil
}

type props interface{ Prop(string) any }

func propString(s havro.Schema, name string) string {
	if p, ok := s.(props); ok {
		if v, ok := p.Prop(name).(string); ok {
			return v
		}
	}
	return ""
}

func propAny(s havro.Schema, name string) any {
	if p, ok := s.(props); ok {
		return p.Prop(name)
	}
	return nil
}

func numberProp(s havro.Schema, name string) (int64, bool) {
	switch v := propAny(s, name).(type) {
	case float64:
		return int64(v), true
	case int:
		return int64(v), true
	case int64:
		return v, true
	case json.Number:
		i, err := v.Int64()
		return i, err == nil
	}
	return 0, false
}

func logicalOf(s havro.Schema) (havro.LogicalType, havro.LogicalSchema) {
	if l, ok := s.(havro.LogicalTypeSchema); ok && l.Logical() != nil {
		return l.Logical().Type(), l.Logical()
	}
	return "", nil
}

func (c *options) toConnectNode(s havro.Schema, forceOptional bool, fieldDefault any, fieldDoc string, version int, seen map[string]*node) (*node, error) {
	if ref, ok := s.(*havro.RefSchema); ok {
		s = ref.Schema()
	}
	n := &node{}
	b := (*data.SchemaBuilder)(nil)
	lt, ls := logicalOf(s)
	switch s.Type() {
	case havro.Boolean:
		n.kind, b = kBool, data.NewBuilder(data.TypeBoolean)
	case havro.Bytes, havro.Fixed:
		if lt == havro.Decimal {
			d := ls.(*havro.DecimalLogicalSchema)
			n.kind, n.scale = kDecimal, int32(d.Scale())
			b = data.DecimalSchema(int32(d.Scale()))
			if d.Precision() != defaultPrecision {
				b.Parameter(DecimalPrecisionParam, strconv.Itoa(d.Precision()))
			}
			if f, ok := s.(*havro.FixedSchema); ok {
				n.size = f.Size()
			}
		} else if f, ok := s.(*havro.FixedSchema); ok {
			n.kind, n.size = kFixed, f.Size()
			b = data.NewBuilder(data.TypeBytes).Parameter(FixedSizeParam, strconv.Itoa(f.Size()))
		} else {
			n.kind, b = kBytes, data.NewBuilder(data.TypeBytes)
		}
	case havro.Double:
		n.kind, b = kFloat64, data.NewBuilder(data.TypeFloat64)
	case havro.Float:
		n.kind, b = kFloat32, data.NewBuilder(data.TypeFloat32)
	case havro.Int:
		switch {
		case lt == havro.Date:
			n.kind, b = kDate, data.DateSchema()
		case lt == havro.TimeMillis:
			n.kind, b = kTimeMillis, data.TimeSchema()
		case lt == "" && propString(s, connectTypeProp) == "int8":
			n.kind, b = kInt8, data.NewBuilder(data.TypeInt8)
		case lt == "" && propString(s, connectTypeProp) == "int16":
			n.kind, b = kInt16, data.NewBuilder(data.TypeInt16)
		default:
			n.kind, b = kInt32, data.NewBuilder(data.TypeInt32)
		}
	case havro.Long:
		switch lt {
		case havro.TimestampMillis:
			n.kind, b = kTimestampMillis, data.TimestampSchema()
		case havro.TimeMicros:
			n.kind, b = kTimeMicro, data.NewBuilder(data.TypeInt64)
		case havro.TimestampMicros:
			n.kind, b = kTSMicro, data.NewBuilder(data.TypeInt64)
		default:
			n.kind, b = kInt64, data.NewBuilder(data.TypeInt64)
		}
	case havro.String:
		n.kind, b = kString, data.NewBuilder(data.TypeString)
	case havro.Array:
		elem := s.(*havro.ArraySchema).Items()
		if ref, ok := elem.(*havro.RefSchema); ok {
			elem = ref.Schema()
		}
		if rec, ok := elem.(*havro.RecordSchema); ok && isMapEntry(rec) {
			if len(rec.Fields()) != 2 || rec.Fields()[0].Name() != "key" || rec.Fields()[1].Name() != "value" {
				return nil, fmt.Errorf("Found map encoded as array of key-value pairs, but array elements do not match the expected format.")
			}
			k, err := c.toConnectNode(rec.Fields()[0].Type(), false, nil, "", 0, seen)
			if err != nil {
				return nil, err
			}
			v, err := c.toConnectNode(rec.Fields()[1].Type(), false, nil, "", 0, seen)
			if err != nil {
				return nil, err
			}
			n.kind, n.key, n.elem = kMapArray, k, v
			b = data.MapBuilder(k.connect, v.connect)
		} else {
			e, err := c.toConnectNode(elem, false, nil, "", 0, seen)
			if err != nil {
				return nil, err
			}
			n.kind, n.elem, b = kArray, e, data.ArrayBuilder(e.connect)
		}
	case havro.Map:
		v, err := c.toConnectNode(s.(*havro.MapSchema).Values(), false, nil, "", 0, seen)
		if err != nil {
			return nil, err
		}
		n.kind, n.elem, b = kMap, v, data.MapBuilder(data.StringSchema, v.connect)
	case havro.Record:
		rec := s.(*havro.RecordSchema)
		if _, cyclic := seen[rec.FullName()]; cyclic {
			return nil, fmt.Errorf("recursive record %s", rec.FullName())
		}
		seen[rec.FullName()] = n
		n.kind, b = kStruct, data.StructBuilder()
		for _, f := range rec.Fields() {
			var def any
			if f.HasDefault() {
				def = jsonDefault{f.Default()}
			}
			fn, err := c.toConnectNode(f.Type(), false, def, f.Doc(), 0, seen)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, fn)
			b.Field(f.Name(), fn.connect)
		}
		delete(seen, rec.FullName())
	case havro.Enum:
		e := s.(*havro.EnumSchema)
		n.kind, n.symbols = kEnum, e.Symbols()
		b = data.NewBuilder(data.TypeString).Parameter(EnumParam, e.FullName())
		for _, sym := range e.Symbols() {
			b.Parameter(EnumParam+"."+sym, sym)
		}
	case havro.Union:
		return c.unionNode(s.(*havro.UnionSchema), fieldDoc, seen)
	case havro.Null:
		return nil, fmt.Errorf("Standalone null schemas are not supported by this converter")
	default:
		return nil, fmt.Errorf("unsupported Avro type %s", s.Type())
	}

	// The registry's version, unless connect.version says otherwise.
	// Connect's logical types come with their name and version 1.
	logical := n.kind == kDecimal || n.kind == kDate || n.kind == kTimeMillis || n.kind == kTimestampMillis
	if v, ok := numberProp(s, connectVersionProp); ok && !logical {
		b.Version(int32(v))
	} else if version > 0 && !logical {
		b.Version(int32(version))
	}
	doc := fieldDoc
	if doc == "" {
		if d, ok := s.(interface{ Doc() string }); ok {
			doc = d.Doc()
		}
	}
	if doc == "" {
		doc = propString(s, connectDocProp)
	}
	if doc != "" {
		b.Doc(doc)
	}
	if c.connectMetaData {
		if params, ok := propAny(s, connectParametersProp).(map[string]any); ok {
			for k, v := range params {
				if sv, ok := v.(string); ok {
					b.Parameter(k, sv)
				}
			}
		}
	}
	name := propString(s, connectNameProp)
	if name == "" {
		if nm, ok := s.(havro.NamedSchema); ok && (s.Type() == havro.Record || s.Type() == havro.Enum || s.Type() == havro.Fixed) {
			name = nm.FullName()
		}
	}
	if name != "" && name != Namespace+"."+DefaultName && !logical {
		b.Name(name)
	}
	if forceOptional {
		b.Optional()
	}
	if fieldDefault == nil {
		if d := propAny(s, connectDefaultProp); d != nil {
			fieldDefault = jsonDefault{d}
		}
	}
	if jd, ok := fieldDefault.(jsonDefault); ok && jd.v != nil {
		// Validate later against the built schema.
		tmp, err := b.Build()
		if err != nil {
			return nil, err
		}
		dv, err := defaultToConnect(n, tmp, jd.v)
		if err != nil {
			return nil, fmt.Errorf("default value %v: %w", jd.v, err)
		}
		b.Default(dv)
	}
	cs, err := b.Build()
	if err != nil {
		return nil, err
	}
	n.connect = cs
	return n, nil
}

// jsonDefault wraps a default as hamba parsed it from the schema's JSON.
type jsonDefault struct{ v any }

func isMapEntry(rec *havro.RecordSchema) bool {
	return rec.FullName() == Namespace+"."+MapEntryName || propString(rec, connectInternalType) == MapEntryName
}

// unionNode maps an Avro union: [null, T] and [T, null] are an optional T;
// other unions a Connect Union struct with one optional field per
// non-null member, named after the member (its simple name for named
// types, its type otherwise), optional when the union has null.
func (c *options) unionNode(u *havro.UnionSchema, fieldDoc string, seen map[string]*node) (*node, error) {
	types := u.Types()
	n := &node{nullIdx: -1}
	if len(types) == 2 && (types[0].Type() == havro.Null) != (types[1].Type() == havro.Null) {
		n.kind = kOptional
		for i, t := range types {
			if t.Type() == havro.Null {
				n.nullIdx = i
				n.branches = append(n.branches, nil)
				continue
			}
			inner, err := c.toConnectNode(t, true, nil, fieldDoc, 0, seen)
			if err != nil {
				return nil, err
			}
			n.branches = append(n.branches, inner)
			n.connect = inner.connect
		}
		return n, nil
	}
	n.kind = kUnion
	b := data.StructBuilder().Name(UnionName)
	names := map[string]bool{}
	for i, t := range types {
		if t.Type() == havro.Null {
			n.nullIdx = i
			n.branches = append(n.branches, nil)
			b.Optional()
			continue
		}
		inner, err := c.toConnectNode(t, true, nil, "", 0, seen)
		if err != nil {
			return nil, err
		}
		name := unionMemberName(t, c.enhanced)
		if names[name] {
			return nil, fmt.Errorf("Multiple union schemas map to the Connect union field name %s", name)
		}
		names[name] = true
		n.branches = append(n.branches, inner)
		b.Field(name, inner.connect)
	}
	cs, err := b.Build()
	if err != nil {
		return nil, err
	}
	n.connect = cs
	return n, nil
}

func unionMemberName(s havro.Schema, enhanced bool) string {
	if ref, ok := s.(*havro.RefSchema); ok {
		s = ref.Schema()
	}
	if nm, ok := s.(havro.NamedSchema); ok {
		if enhanced {
			return nm.FullName()
		}
		return nm.Name()
	}
	return string(s.Type())
}

// defaultToConnect converts a default as hamba parsed it from JSON into a
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
		f, ok := v.(float64)
		if !ok {
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
