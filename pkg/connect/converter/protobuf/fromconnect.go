package protobuf

import (
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Options of the writer's schema generation, Confluent's ProtobufData
// settings of the same names.
type genOptions struct {
	// OptionalForNullables labels optional Connect fields proto3
	// "optional" (optional.for.nullables), so that null reads back as null
	// rather than as the type's default.
	OptionalForNullables bool
	// WrapperForNullables writes optional primitives as the
	// google.protobuf wrappers (wrapper.for.nullables).
	WrapperForNullables bool
}

// protoText renders the .proto (proto3) of a Connect STRUCT schema after
// Confluent's ProtobufData.fromConnectSchema: the message is named after
// the schema's simple name in a package of the rest (ConnectDefault1 when
// it has none), fields are numbered from 1 in order, INT8/INT16/INT32 are
// int32 (INT8 and INT16 marked with connect.type in the field's
// confluent.field_meta, so that they read back as such), INT64 int64,
// FLOAT32 float, FLOAT64 double, ARRAY repeated, MAP map<K, V> (string or
// integer keys), STRUCT a nested message, a io.confluent.connect.protobuf.Union
// STRUCT a oneof, a STRING with the io.confluent.connect.protobuf.Enum
// parameter an enum of its symbols, Decimal confluent.type.Decimal with
// its precision and scale in confluent.field_meta, Timestamp
// google.protobuf.Timestamp, Date google.type.Date, Time
// google.type.TimeOfDay. Optional primitives are plain proto3 fields
// unless opts ask for "optional" labels or wrappers (Confluent's defaults:
// neither, so that null reads back as the type's default).
func protoText(s *data.Schema, opts genOptions) (string, error) {
	if s == nil || s.Type != data.TypeStruct {
		return "", fmt.Errorf("the ProtobufConverter writes STRUCT values only, not %v", s)
	}
	pkg, name := splitName(s.Name)
	if name == "" {
		name = "ConnectDefault1"
	}
	g := &gen{opts: opts, pkg: pkg, imports: map[string]bool{}, defined: map[string]bool{}}
	var body strings.Builder
	if err := g.message(&body, name, s, ""); err != nil {
		return "", err
	}
	for _, def := range g.topLevel {
		def(&body)
	}
	var out strings.Builder
	out.WriteString("syntax = \"proto3\";\n")
	if pkg != "" {
		fmt.Fprintf(&out, "package %s;\n", pkg)
	}
	imps := make([]string, 0, len(g.imports))
	for i := range g.imports {
		imps = append(imps, i)
	}
	sort.Strings(imps)
	for _, i := range imps {
		fmt.Fprintf(&out, "import %q;\n", i)
	}
	out.WriteString("\n")
	out.WriteString(body.String())
	return out.String(), nil
}

type gen struct {
	opts genOptions
	// pkg is the file's package, scope the full name of the message being
	// written.
	pkg, scope       string
	imports, defined map[string]bool
	// topLevel writes the enums defined beside the messages.
	topLevel []func(*strings.Builder)
}

// field is one rendered field: its type, the confluent.field_meta params
// it carries, and what must be defined beside it (a nested message or an
// enum), written after the fields.
type field struct {
	typ  string
	meta [][2]string
	nest func(*strings.Builder) func() error
}

func splitName(full string) (string, string) {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "", full
}

func (g *gen) message(b *strings.Builder, name string, s *data.Schema, indent string) error {
	outer := g.scope
	if outer == "" {
		g.scope = name
		if g.pkg != "" {
			g.scope = g.pkg + "." + name
		}
	} else {
		g.scope = outer + "." + name
	}
	defer func() { g.scope = outer }()
	fmt.Fprintf(b, "%smessage %s {\n", indent, name)
	inner := indent + "  "
	var nested []func() error
	tag := 1
	for _, f := range s.Fields {
		if f.Schema.Type == data.TypeStruct && f.Schema.Name == UnionName {
			fmt.Fprintf(b, "%soneof %s {\n", inner, strings.TrimSuffix(f.Name, "_"+lastIndexSuffix(f.Name)))
			for _, uf := range f.Schema.Fields {
				fd, err := g.fieldType(uf.Name, uf.Schema, inner+"  ", false)
				if err != nil {
					return err
				}
				if fd.nest != nil {
					nested = append(nested, fd.nest(b))
				}
				n, next := fieldNumber(uf.Schema, tag)
				fmt.Fprintf(b, "%s  %s %s = %d%s;\n", inner, fd.typ, uf.Name, n, fieldMeta(fd.meta))
				tag = next
			}
			fmt.Fprintf(b, "%s}\n", inner)
			continue
		}
		fd, err := g.fieldType(f.Name, f.Schema, inner, true)
		if err != nil {
			return err
		}
		if fd.nest != nil {
			nested = append(nested, fd.nest(b))
		}
		label := ""
		if g.opts.OptionalForNullables && f.Schema.Optional && f.Schema.Type != data.TypeArray && f.Schema.Type != data.TypeMap {
			label = "optional "
		}
		n, next := fieldNumber(f.Schema, tag)
		fmt.Fprintf(b, "%s%s%s %s = %d%s;\n", inner, label, fd.typ, f.Name, n, fieldMeta(fd.meta))
		tag = next
	}
	for _, n := range nested {
		if err := n(); err != nil {
			return err
		}
	}
	fmt.Fprintf(b, "%s}\n", indent)
	return nil
}

// fieldNumber is a field's number: its schema's
// io.confluent.connect.protobuf.Tag when it has one (a schema read from
// Protobuf), else the next in order, as ProtobufData numbers them. It
// returns the next number in order too.
func fieldNumber(s *data.Schema, next int) (int, int) {
	if t, err := strconv.Atoi(s.Parameters[TagParam]); err == nil && t > 0 {
		return t, next
	}
	return next, next + 1
}

// fieldMeta renders the confluent.field_meta option of a field, as
// Confluent's ProtobufSchema prints it.
func fieldMeta(meta [][2]string) string {
	if len(meta) == 0 {
		return ""
	}
	parts := make([]string, len(meta))
	for i, kv := range meta {
		parts[i] = fmt.Sprintf("{ key: %q, value: %q }", kv[0], kv[1])
	}
	return " [(confluent.field_meta) = { params: [" + strings.Join(parts, ", ") + "] }]"
}

func lastIndexSuffix(name string) string {
	if i := strings.LastIndexByte(name, '_'); i >= 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[i+1:]
		}
	}
	return "\x00"
}

// wrappers are the google.protobuf wrapper of each primitive type.
var wrappers = map[data.Type]string{
	data.TypeInt8: "google.protobuf.Int32Value", data.TypeInt16: "google.protobuf.Int32Value",
	data.TypeInt32: "google.protobuf.Int32Value", data.TypeInt64: "google.protobuf.Int64Value",
	data.TypeFloat32: "google.protobuf.FloatValue", data.TypeFloat64: "google.protobuf.DoubleValue",
	data.TypeBoolean: "google.protobuf.BoolValue", data.TypeString: "google.protobuf.StringValue",
	data.TypeBytes: "google.protobuf.BytesValue",
}

// fieldType returns the proto type of a field and what it needs defined.
// top is false for the elements of arrays and maps and for oneof members,
// which cannot be wrapped.
func (g *gen) fieldType(name string, s *data.Schema, indent string, top bool) (field, error) {
	switch s.Name {
	case data.TimestampName:
		g.imports["google/protobuf/timestamp.proto"] = true
		return field{typ: "google.protobuf.Timestamp"}, nil
	case data.DateName:
		g.imports["google/type/date.proto"] = true
		return field{typ: "google.type.Date"}, nil
	case data.TimeName:
		g.imports["google/type/timeofday.proto"] = true
		return field{typ: "google.type.TimeOfDay"}, nil
	case data.DecimalName:
		g.imports["confluent/type/decimal.proto"] = true
		var meta [][2]string
		if p, ok := s.Parameters[precisionParam]; ok {
			meta = append(meta, [2]string{"precision", p})
		}
		if sc, ok := s.Parameters[data.DecimalScaleParam]; ok {
			meta = append(meta, [2]string{"scale", sc})
		}
		if len(meta) > 0 {
			g.imports["confluent/meta.proto"] = true
		}
		return field{typ: "confluent.type.Decimal", meta: meta}, nil
	}
	if top && g.opts.WrapperForNullables && s.Optional && s.Parameters[EnumParam] == "" {
		if w, ok := wrappers[s.Type]; ok {
			g.imports["google/protobuf/wrappers.proto"] = true
			return field{typ: w}, nil
		}
	}
	switch s.Type {
	case data.TypeInt8:
		g.imports["confluent/meta.proto"] = true
		return field{typ: "int32", meta: [][2]string{{connectTypeParam, "int8"}}}, nil
	case data.TypeInt16:
		g.imports["confluent/meta.proto"] = true
		return field{typ: "int32", meta: [][2]string{{connectTypeParam, "int16"}}}, nil
	case data.TypeInt32:
		return field{typ: "int32"}, nil
	case data.TypeInt64:
		return field{typ: "int64"}, nil
	case data.TypeFloat32:
		return field{typ: "float"}, nil
	case data.TypeFloat64:
		return field{typ: "double"}, nil
	case data.TypeBoolean:
		return field{typ: "bool"}, nil
	case data.TypeString:
		if full := s.Parameters[EnumParam]; full != "" {
			return g.enum(full, s, indent)
		}
		return field{typ: "string"}, nil
	case data.TypeBytes:
		return field{typ: "bytes"}, nil
	case data.TypeArray:
		if s.ValueSchema.Type == data.TypeArray || s.ValueSchema.Type == data.TypeMap {
			return field{}, fmt.Errorf("field %s: arrays of arrays or maps are not supported", name)
		}
		f, err := g.fieldType(name, s.ValueSchema, indent, false)
		f.typ = "repeated " + f.typ
		return f, err
	case data.TypeMap:
		switch s.KeySchema.Type {
		case data.TypeString, data.TypeInt32, data.TypeInt64, data.TypeBoolean, data.TypeInt8, data.TypeInt16:
		default:
			return field{}, fmt.Errorf("field %s: map keys of type %s are not supported", name, s.KeySchema.Type)
		}
		if s.ValueSchema.Type == data.TypeArray || s.ValueSchema.Type == data.TypeMap {
			return field{}, fmt.Errorf("field %s: maps of arrays or maps are not supported", name)
		}
		k, err := g.fieldType(name, s.KeySchema, indent, false)
		if err != nil {
			return field{}, err
		}
		v, err := g.fieldType(name, s.ValueSchema, indent, false)
		if err != nil {
			return field{}, err
		}
		return field{typ: "map<" + k.typ + ", " + v.typ + ">", nest: v.nest}, nil
	case data.TypeStruct:
		_, msg := splitName(s.Name)
		if msg == "" {
			msg = strings.ToUpper(name[:1]) + name[1:]
		}
		if g.defined[indent+msg] {
			return field{typ: msg}, nil
		}
		g.defined[indent+msg] = true
		return field{typ: msg, nest: func(b *strings.Builder) func() error {
			return func() error { return g.message(b, msg, s, indent) }
		}}, nil
	}
	return field{}, fmt.Errorf("field %s: unsupported type %s", name, s.Type)
}

// enum defines the enum that a STRING schema's
// io.confluent.connect.protobuf.Enum parameters describe (the enum's full
// name and, for each symbol, a parameter Enum.<symbol> with its number)
// where it keeps its full name: beside the messages when it is in the
// file's package, else in the message that uses it (as Confluent's
// ProtobufData does).
func (g *gen) enum(full string, s *data.Schema, indent string) (field, error) {
	scope, name := splitName(full)
	type symbol struct {
		name string
		num  int
	}
	var syms []symbol
	for k, v := range s.Parameters {
		sym, ok := strings.CutPrefix(k, EnumParam+".")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return field{}, fmt.Errorf("enum %s: symbol %s has number %q", full, sym, v)
		}
		syms = append(syms, symbol{sym, n})
	}
	if len(syms) == 0 {
		return field{}, fmt.Errorf("enum %s has no symbols (no %s.<symbol> parameters)", full, EnumParam)
	}
	slices.SortFunc(syms, func(a, b symbol) int {
		if a.num != b.num {
			return a.num - b.num
		}
		return strings.Compare(a.name, b.name)
	})
	write := func(b *strings.Builder, indent string) {
		fmt.Fprintf(b, "%senum %s {\n", indent, name)
		for _, sym := range syms {
			fmt.Fprintf(b, "%s  %s = %d;\n", indent, sym.name, sym.num)
		}
		fmt.Fprintf(b, "%s}\n", indent)
	}
	if scope == g.pkg && scope != g.scope {
		if !g.defined[full] {
			g.defined[full] = true
			g.topLevel = append(g.topLevel, func(b *strings.Builder) { write(b, "") })
		}
		return field{typ: name}, nil
	}
	if g.defined[indent+name] {
		return field{typ: name}, nil
	}
	g.defined[indent+name] = true
	return field{typ: name, nest: func(b *strings.Builder) func() error {
		return func() error { write(b, indent); return nil }
	}}, nil
}

// fill sets m's fields from st, a Connect value of s (the schema protoText
// rendered m's message from).
func fill(m protoreflect.Message, s *data.Schema, st *data.Struct) error {
	md := m.Descriptor()
	for _, f := range s.Fields {
		v := st.Get(f.Name)
		if v == nil {
			continue
		}
		if f.Schema.Type == data.TypeStruct && f.Schema.Name == UnionName {
			u, ok := v.(*data.Struct)
			if !ok {
				return fmt.Errorf("%s: a union is a %T", f.Name, v)
			}
			for _, uf := range f.Schema.Fields {
				if uv := u.GetWithoutDefault(uf.Name); uv != nil {
					fd := md.Fields().ByName(protoreflect.Name(uf.Name))
					if err := set(m, fd, uf.Schema, uv); err != nil {
						return err
					}
				}
			}
			continue
		}
		fd := md.Fields().ByName(protoreflect.Name(f.Name))
		if fd == nil {
			return fmt.Errorf("no field %s in message %s", f.Name, md.FullName())
		}
		if err := set(m, fd, f.Schema, v); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return nil
}

func set(m protoreflect.Message, fd protoreflect.FieldDescriptor, s *data.Schema, v any) error {
	switch {
	case fd.IsMap():
		mm := m.Mutable(fd).Map()
		keys, get := entries(v)
		for _, k := range keys {
			kv, err := scalar(nil, fd.MapKey(), s.KeySchema, mapKey(fd.MapKey(), k))
			if err != nil {
				return err
			}
			vv, err := scalar(func() protoreflect.Message { return mm.NewValue().Message() }, fd.MapValue(), s.ValueSchema, get(k))
			if err != nil {
				return err
			}
			mm.Set(kv.MapKey(), vv)
		}
		return nil
	case fd.IsList():
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("an ARRAY value is a %T", v)
		}
		l := m.Mutable(fd).List()
		for _, e := range arr {
			ev, err := scalar(func() protoreflect.Message { return l.NewElement().Message() }, fd, s.ValueSchema, e)
			if err != nil {
				return err
			}
			l.Append(ev)
		}
		return nil
	}
	pv, err := scalar(func() protoreflect.Message { return m.NewField(fd).Message() }, fd, s, v)
	if err != nil {
		return err
	}
	m.Set(fd, pv)
	return nil
}

func entries(v any) ([]any, func(any) any) {
	var keys []any
	switch mm := v.(type) {
	case map[any]any:
		for k := range mm {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		return keys, func(k any) any { return mm[k] }
	case map[string]any:
		for k := range mm {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		return keys, func(k any) any { return mm[k.(string)] }
	}
	return nil, nil
}

func scalar(newMsg func() protoreflect.Message, fd protoreflect.FieldDescriptor, s *data.Schema, v any) (protoreflect.Value, error) {
	bad := func() (protoreflect.Value, error) {
		return protoreflect.Value{}, fmt.Errorf("a %T does not fit %s", v, fd.Kind())
	}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if b, ok := v.(bool); ok {
			return protoreflect.ValueOfBool(b), nil
		}
	case protoreflect.Int32Kind:
		switch x := v.(type) {
		case int8:
			return protoreflect.ValueOfInt32(int32(x)), nil
		case int16:
			return protoreflect.ValueOfInt32(int32(x)), nil
		case int32:
			return protoreflect.ValueOfInt32(x), nil
		}
	case protoreflect.Int64Kind:
		switch x := v.(type) {
		case int64:
			return protoreflect.ValueOfInt64(x), nil
		case int:
			return protoreflect.ValueOfInt64(int64(x)), nil
		}
	case protoreflect.FloatKind:
		if f, ok := v.(float32); ok {
			return protoreflect.ValueOfFloat32(f), nil
		}
	case protoreflect.DoubleKind:
		if f, ok := v.(float64); ok {
			return protoreflect.ValueOfFloat64(f), nil
		}
	case protoreflect.StringKind:
		if str, ok := v.(string); ok {
			return protoreflect.ValueOfString(str), nil
		}
	case protoreflect.BytesKind:
		if b, ok := v.([]byte); ok {
			return protoreflect.ValueOfBytes(b), nil
		}
	case protoreflect.EnumKind:
		name, ok := v.(string)
		if !ok {
			return bad()
		}
		ev := fd.Enum().Values().ByName(protoreflect.Name(name))
		if ev == nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not a symbol of enum %s", name, fd.Enum().FullName())
		}
		return protoreflect.ValueOfEnum(ev.Number()), nil
	case protoreflect.MessageKind:
		sub := newMsg()
		md := sub.Descriptor()
		if strings.HasPrefix(string(md.FullName()), "google.protobuf.") && strings.HasSuffix(string(md.FullName()), "Value") {
			// A wrapper (wrapper.for.nullables): its one field "value".
			vf := md.Fields().ByName("value")
			if vf == nil {
				return bad()
			}
			pv, err := scalar(nil, vf, s, v)
			if err != nil {
				return protoreflect.Value{}, err
			}
			sub.Set(vf, pv)
			return protoreflect.ValueOfMessage(sub), nil
		}
		switch md.FullName() {
		case "confluent.type.Decimal":
			d, ok := v.(data.Decimal)
			if !ok {
				return bad()
			}
			// As Confluent's DecimalUtils.fromBigDecimal: the unscaled
			// value's two's complement, its digits and its scale.
			u := d.Unscaled
			if u == nil {
				u = new(big.Int)
			}
			sub.Set(md.Fields().ByName("value"), protoreflect.ValueOfBytes(twosComplement(u)))
			sub.Set(md.Fields().ByName("precision"), protoreflect.ValueOfUint32(uint32(len(new(big.Int).Abs(u).String()))))
			sub.Set(md.Fields().ByName("scale"), protoreflect.ValueOfInt32(d.Scale))
			return protoreflect.ValueOfMessage(sub), nil
		case "google.type.TimeOfDay":
			t, ok := v.(time.Time)
			if !ok {
				return bad()
			}
			t = t.UTC()
			sub.Set(md.Fields().ByName("hours"), protoreflect.ValueOfInt32(int32(t.Hour())))
			sub.Set(md.Fields().ByName("minutes"), protoreflect.ValueOfInt32(int32(t.Minute())))
			sub.Set(md.Fields().ByName("seconds"), protoreflect.ValueOfInt32(int32(t.Second())))
			sub.Set(md.Fields().ByName("nanos"), protoreflect.ValueOfInt32(int32(t.Nanosecond()/1e6*1e6)))
			return protoreflect.ValueOfMessage(sub), nil
		case "google.protobuf.Timestamp":
			t, ok := v.(time.Time)
			if !ok {
				return bad()
			}
			sub.Set(md.Fields().ByName("seconds"), protoreflect.ValueOfInt64(t.Unix()))
			sub.Set(md.Fields().ByName("nanos"), protoreflect.ValueOfInt32(int32(t.Nanosecond())))
			return protoreflect.ValueOfMessage(sub), nil
		case "google.type.Date":
			t, ok := v.(time.Time)
			if !ok {
				return bad()
			}
			sub.Set(md.Fields().ByName("year"), protoreflect.ValueOfInt32(int32(t.Year())))
			sub.Set(md.Fields().ByName("month"), protoreflect.ValueOfInt32(int32(t.Month())))
			sub.Set(md.Fields().ByName("day"), protoreflect.ValueOfInt32(int32(t.Day())))
			return protoreflect.ValueOfMessage(sub), nil
		}
		st, ok := v.(*data.Struct)
		if !ok {
			return bad()
		}
		if err := fill(sub, s, st); err != nil {
			return protoreflect.Value{}, err
		}
		return protoreflect.ValueOfMessage(sub), nil
	}
	return bad()
}

// twosComplement is x's minimal big-endian two's complement, as Java's
// BigInteger.toByteArray (0 is one zero byte).
func twosComplement(x *big.Int) []byte {
	if x.Sign() >= 0 {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -x - 1, inverted, with a leading sign bit.
	n := new(big.Int).Neg(x)
	n.Sub(n, big.NewInt(1))
	b := n.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	for i := range b {
		b[i] = ^b[i]
	}
	return b
}

// mapKey widens a Connect INT8/INT16 key to the proto int32 key.
func mapKey(fd protoreflect.FieldDescriptor, k any) any {
	switch x := k.(type) {
	case int8:
		return int32(x)
	case int16:
		return int32(x)
	}
	return k
}
