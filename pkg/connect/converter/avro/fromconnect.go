package avro

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// obj is a JSON object that keeps its keys in order, as Avro's
// Schema.toString writes properties in the order they were added.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// fromConnectContext names the records already defined, which later
// references use by name, as Avro requires.
type fromConnectContext struct {
	defined map[string]bool
	opts    *options
	// unnamed are the STRUCTs without a Connect name defined so far, with
	// the Avro names they got: ConnectDefault, ConnectDefault2, ... in
	// the order met, as Confluent's AvroData numbers them (its
	// getNameOrDefault); nameIndex counts them.
	unnamed   []unnamedRecord
	nameIndex int
}

type unnamedRecord struct {
	s    *data.Schema
	full string
}

// nextDefaultName is the Avro name of the next schema without a Connect
// name: ConnectDefault, then ConnectDefault2, ConnectDefault3, ...
func (ctx *fromConnectContext) nextDefaultName() string {
	ctx.nameIndex++
	if ctx.nameIndex > 1 {
		return DefaultName + strconv.Itoa(ctx.nameIndex)
	}
	return DefaultName
}

// sameUnnamed returns the Avro name of an unnamed STRUCT already defined
// that equals s but for optionality (as AvroData reuses a schema it has
// converted), or "". s is registered before its fields are converted, so
// that an unnamed recursive struct refers to itself by name.
func (ctx *fromConnectContext) sameUnnamed(s *data.Schema) string {
	for _, u := range ctx.unnamed {
		a, b := *u.s, *s
		a.Optional, b.Optional = false, false
		if u.s == s || data.Equal(&a, &b) {
			return u.full
		}
	}
	return ""
}

// FromConnectSchema renders the Avro schema (JSON text) of a Connect
// schema as Confluent's AvroData.fromConnectSchema builds it:
// INT8/INT16 as int with connect.type, optional schemas as unions with
// null, MAPs with non-string keys as arrays of MapEntry records, Connect's
// logical types as Avro's, and with connect.meta.data the connect.name,
// connect.doc, connect.version, connect.parameters and connect.default
// properties.
func (c *options) fromConnectSchema(s *data.Schema) (string, error) {
	if s == nil {
		return "", dataErrorf("a value without a schema cannot be written as Avro")
	}
	ctx := &fromConnectContext{defined: map[string]bool{}, opts: c}
	v, err := ctx.schema(s, false)
	if err != nil {
		return "", err
	}
	b, err := marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (ctx *fromConnectContext) schema(s *data.Schema, ignoreOptional bool) (any, error) {
	namespace, name := Namespace, DefaultName
	if s.Name != "" {
		namespace, name = splitName(s.Name)
	}
	var base obj
	var baseType string // a primitive type without properties
	connectType := ""
	switch s.Type {
	case data.TypeInt8:
		baseType, connectType = "int", "int8"
	case data.TypeInt16:
		baseType, connectType = "int", "int16"
	case data.TypeInt32:
		baseType = "int"
	case data.TypeInt64:
		baseType = "long"
	case data.TypeFloat32:
		baseType = "float"
	case data.TypeFloat64:
		baseType = "double"
	case data.TypeBoolean:
		baseType = "boolean"
	case data.TypeString:
		if ctx.opts.enhanced && s.Parameters[EnumParam] != "" {
			ens, enn := splitName(s.Parameters[EnumParam])
			var symbols []string
			for _, k := range slices.Sorted(maps.Keys(s.Parameters)) {
				if sym, ok := cutPrefix(k, EnumParam+"."); ok {
					symbols = append(symbols, sym)
				}
			}
			full := s.Parameters[EnumParam]
			if ctx.defined[full] {
				return full, nil
			}
			if s.Name == "" {
				ctx.nextDefaultName() // AvroData numbers unnamed enums too
			}
			ctx.defined[full] = true
			base = obj{{"type", "enum"}, {"name", enn}}
			if ens != "" {
				base = append(base, kv{"namespace", ens})
			}
			base = append(base, kv{"symbols", symbols})
		} else {
			baseType = "string"
		}
	case data.TypeBytes:
		baseType = "bytes"
		if s.Name == data.DecimalName {
			scale, err := data.DecimalScale(s)
			if err != nil {
				return nil, err
			}
			prec := defaultPrecision
			if p, ok := s.Parameters[DecimalPrecisionParam]; ok {
				if prec, err = strconv.Atoi(p); err != nil {
					return nil, dataErrorf("invalid %s %q", DecimalPrecisionParam, p)
				}
			}
			base = obj{{"type", "bytes"}, {"scale", int(scale)}, {"precision", prec}}
			baseType = ""
		}
	case data.TypeArray:
		items, err := ctx.schema(s.ValueSchema, false)
		if err != nil {
			return nil, err
		}
		base = obj{{"type", "array"}, {"items", items}}
	case data.TypeMap:
		if s.KeySchema.Type == data.TypeString && !s.KeySchema.Optional {
			values, err := ctx.schema(s.ValueSchema, false)
			if err != nil {
				return nil, err
			}
			base = obj{{"type", "map"}, {"values", values}}
			break
		}
		entryName, entryNS := MapEntryName, namespace
		var internal bool
		if s.Name != "" {
			entryName, internal = name, true
		}
		full := entryNS + "." + entryName
		var entry any
		if ctx.defined[full] {
			entry = full
		} else {
			ctx.defined[full] = true
			kf, err := ctx.field("key", s.KeySchema)
			if err != nil {
				return nil, err
			}
			vf, err := ctx.field("value", s.ValueSchema)
			if err != nil {
				return nil, err
			}
			e := obj{{"type", "record"}, {"name", entryName}, {"namespace", entryNS}, {"fields", []any{kf, vf}}}
			if internal {
				e = append(e, kv{connectInternalType, MapEntryName})
			}
			entry = e
		}
		base = obj{{"type", "array"}, {"items", entry}}
	case data.TypeStruct:
		if s.Name == UnionName {
			var members []any
			if s.Optional {
				members = append(members, "null")
			}
			for _, f := range s.Fields {
				fs := *f.Schema
				fs.Optional = false
				m, err := ctx.schema(&fs, true)
				if err != nil {
					return nil, err
				}
				members = append(members, m)
			}
			return members, nil
		}
		if s.Name == "" {
			if full := ctx.sameUnnamed(s); full != "" {
				return ctx.optional(s, full, ignoreOptional), nil
			}
			name = ctx.nextDefaultName()
		}
		full := namespace + "." + name
		if namespace == "" {
			full = name
		}
		if s.Name == "" {
			ctx.unnamed = append(ctx.unnamed, unnamedRecord{s: s, full: full})
		}
		if ctx.defined[full] {
			// A second use of the same record (or a recursive record's
			// use inside itself): Avro refers to it by name.
			return ctx.optional(s, full, ignoreOptional), nil
		}
		ctx.defined[full] = true
		base = obj{{"type", "record"}, {"name", name}}
		if namespace != "" {
			base = append(base, kv{"namespace", namespace})
		}
		if doc := s.Parameters[connectRecordDocParam]; doc != "" {
			base = append(base, kv{"doc", doc})
		}
		fields := []any{}
		for _, f := range s.Fields {
			af, err := ctx.field(f.Name, f.Schema)
			if err != nil {
				return nil, err
			}
			fields = append(fields, af)
		}
		base = append(base, kv{"fields", fields})
	default:
		return nil, dataErrorf("unsupported Connect type %s", s.Type)
	}

	props := obj{}
	if ctx.opts.connectMetaData {
		if s.Doc != "" {
			props = append(props, kv{connectDocProp, s.Doc})
		}
		if s.Version != nil {
			props = append(props, kv{connectVersionProp, *s.Version})
		}
		if len(s.Parameters) > 0 {
			params := obj{}
			for _, k := range slices.Sorted(maps.Keys(s.Parameters)) {
				params = append(params, kv{k, s.Parameters[k]})
			}
			props = append(props, kv{connectParametersProp, params})
		}
		if s.Default != nil {
			d, err := defaultFromConnect(s, s.Default)
			if err != nil {
				return nil, err
			}
			props = append(props, kv{connectDefaultProp, d})
		}
		if s.Name != "" {
			props = append(props, kv{connectNameProp, s.Name})
		}
		if connectType != "" {
			props = append(props, kv{connectTypeProp, connectType})
		}
	}
	switch s.Name {
	case data.DecimalName:
		props = append(props, kv{"logicalType", "decimal"})
	case data.DateName:
		props = append(props, kv{"logicalType", "date"})
	case data.TimeName:
		props = append(props, kv{"logicalType", "time-millis"})
	case data.TimestampName:
		props = append(props, kv{"logicalType", "timestamp-millis"})
	}
	var out any
	switch {
	case base == nil && len(props) == 0:
		out = baseType
	case base == nil:
		out = append(obj{{"type", baseType}}, props...)
	default:
		out = append(base, props...)
	}
	return ctx.optional(s, out, ignoreOptional), nil
}

// optional wraps an optional schema in a union with null: null first, or
// last when the schema has a default (Avro's default is the first
// member's).
func (ctx *fromConnectContext) optional(s *data.Schema, out any, ignoreOptional bool) any {
	if !s.Optional || ignoreOptional {
		return out
	}
	if s.Default != nil {
		return []any{out, "null"}
	}
	return []any{"null", out}
}

func (ctx *fromConnectContext) field(name string, s *data.Schema) (obj, error) {
	t, err := ctx.schema(s, false)
	if err != nil {
		return nil, err
	}
	f := obj{{"name", name}, {"type", t}}
	if s.Doc != "" {
		f = append(f, kv{"doc", s.Doc})
	}
	switch {
	case s.Default != nil:
		d, err := defaultFromConnect(s, s.Default)
		if err != nil {
			return nil, err
		}
		f = append(f, kv{"default", d})
	case s.Optional:
		f = append(f, kv{"default", nil})
	}
	return f, nil
}

// defaultFromConnect renders a Connect default value as Avro's JSON
// default (AvroData.defaultValueFromConnect).
func defaultFromConnect(s *data.Schema, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if data.IsLogical(s) {
		raw, err := data.FromLogical(s, v)
		if err != nil {
			return nil, err
		}
		if b, ok := raw.([]byte); ok {
			return bytesJSON(b), nil
		}
		return raw, nil
	}
	switch s.Type {
	case data.TypeBytes:
		b, _ := v.([]byte)
		return bytesJSON(b), nil
	case data.TypeArray:
		arr, _ := v.([]any)
		out := make([]any, len(arr))
		for i, e := range arr {
			d, err := defaultFromConnect(s.ValueSchema, e)
			if err != nil {
				return nil, err
			}
			out[i] = d
		}
		return out, nil
	case data.TypeMap:
		keys, get, err := mapEntries(v)
		if err != nil {
			return nil, err
		}
		if s.KeySchema.Type == data.TypeString && !s.KeySchema.Optional {
			out := obj{}
			for _, k := range keys {
				d, err := defaultFromConnect(s.ValueSchema, get(k))
				if err != nil {
					return nil, err
				}
				out = append(out, kv{fmt.Sprint(k), d})
			}
			return out, nil
		}
		out := []any{}
		for _, k := range keys {
			kd, err := defaultFromConnect(s.KeySchema, k)
			if err != nil {
				return nil, err
			}
			vd, err := defaultFromConnect(s.ValueSchema, get(k))
			if err != nil {
				return nil, err
			}
			out = append(out, obj{{"key", kd}, {"value", vd}})
		}
		return out, nil
	case data.TypeStruct:
		st, ok := v.(*data.Struct)
		if !ok {
			return nil, dataErrorf("struct default is %T", v)
		}
		out := obj{}
		for _, f := range s.Fields {
			d, err := defaultFromConnect(f.Schema, st.Get(f.Name))
			if err != nil {
				return nil, err
			}
			out = append(out, kv{f.Name, d})
		}
		return out, nil
	}
	if t, ok := v.(time.Time); ok {
		return t.UnixMilli(), nil
	}
	return v, nil
}

// bytesJSON renders bytes as Avro's JSON does: one character per byte.
func bytesJSON(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}
