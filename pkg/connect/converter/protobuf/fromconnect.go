package protobuf

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// protoText renders the .proto (proto3) of a Connect STRUCT schema after
// Confluent's ProtobufData.fromConnectSchema: the message is named after
// the schema's simple name in a package of the rest (ConnectDefault1 when
// it has none), fields are numbered from 1 in order, INT8/INT16/INT32 are
// int32, INT64 int64, FLOAT32 float, FLOAT64 double, ARRAY repeated, MAP
// map<K, V> (string or integer keys), STRUCT a nested message, a
// io.confluent.connect.protobuf.Union STRUCT a oneof, Timestamp
// google.protobuf.Timestamp, Date google.type.Date. Optional primitives
// are written as plain proto3 fields (their absence reads back as the
// type's default, as with Confluent's default wrapper.for.nullables=false).
func protoText(s *data.Schema) (string, error) {
	if s == nil || s.Type != data.TypeStruct {
		return "", fmt.Errorf("the ProtobufConverter writes STRUCT values only, not %v", s)
	}
	g := &gen{imports: map[string]bool{}, defined: map[string]bool{}}
	pkg, name := splitName(s.Name)
	if name == "" {
		name = "ConnectDefault1"
	}
	var body strings.Builder
	if err := g.message(&body, name, s, ""); err != nil {
		return "", err
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

type gen struct{ imports, defined map[string]bool }

func splitName(full string) (string, string) {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "", full
}

func (g *gen) message(b *strings.Builder, name string, s *data.Schema, indent string) error {
	fmt.Fprintf(b, "%smessage %s {\n", indent, name)
	inner := indent + "  "
	var nested []func() error
	tag := 1
	for _, f := range s.Fields {
		if f.Schema.Type == data.TypeStruct && f.Schema.Name == UnionName {
			fmt.Fprintf(b, "%soneof %s {\n", inner, strings.TrimSuffix(f.Name, "_"+lastIndexSuffix(f.Name)))
			for _, uf := range f.Schema.Fields {
				typ, nest, err := g.fieldType(uf.Name, uf.Schema, inner+"  ")
				if err != nil {
					return err
				}
				if nest != nil {
					nested = append(nested, nest(b))
				}
				fmt.Fprintf(b, "%s  %s %s = %d;\n", inner, typ, uf.Name, tag)
				tag++
			}
			fmt.Fprintf(b, "%s}\n", inner)
			continue
		}
		typ, nest, err := g.fieldType(f.Name, f.Schema, inner)
		if err != nil {
			return err
		}
		if nest != nil {
			nested = append(nested, nest(b))
		}
		fmt.Fprintf(b, "%s%s %s = %d;\n", inner, typ, f.Name, tag)
		tag++
	}
	for _, n := range nested {
		if err := n(); err != nil {
			return err
		}
	}
	fmt.Fprintf(b, "%s}\n", indent)
	return nil
}

func lastIndexSuffix(name string) string {
	if i := strings.LastIndexByte(name, '_'); i >= 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[i+1:]
		}
	}
	return "\x00"
}

// fieldType returns the proto type of a field and, for a nested message,
// a function that writes it (after the fields).
func (g *gen) fieldType(field string, s *data.Schema, indent string) (string, func(*strings.Builder) func() error, error) {
	switch s.Name {
	case data.TimestampName:
		g.imports["google/protobuf/timestamp.proto"] = true
		return "google.protobuf.Timestamp", nil, nil
	case data.DateName:
		g.imports["google/type/date.proto"] = true
		return "google.type.Date", nil, nil
	case data.DecimalName, data.TimeName:
		return "", nil, fmt.Errorf("field %s: %s is not supported by Sluice's ProtobufConverter yet", field, s.Name)
	}
	switch s.Type {
	case data.TypeInt8, data.TypeInt16, data.TypeInt32:
		return "int32", nil, nil
	case data.TypeInt64:
		return "int64", nil, nil
	case data.TypeFloat32:
		return "float", nil, nil
	case data.TypeFloat64:
		return "double", nil, nil
	case data.TypeBoolean:
		return "bool", nil, nil
	case data.TypeString:
		return "string", nil, nil
	case data.TypeBytes:
		return "bytes", nil, nil
	case data.TypeArray:
		if s.ValueSchema.Type == data.TypeArray || s.ValueSchema.Type == data.TypeMap {
			return "", nil, fmt.Errorf("field %s: arrays of arrays or maps are not supported", field)
		}
		t, nest, err := g.fieldType(field, s.ValueSchema, indent)
		return "repeated " + t, nest, err
	case data.TypeMap:
		switch s.KeySchema.Type {
		case data.TypeString, data.TypeInt32, data.TypeInt64, data.TypeBoolean, data.TypeInt8, data.TypeInt16:
		default:
			return "", nil, fmt.Errorf("field %s: map keys of type %s are not supported", field, s.KeySchema.Type)
		}
		k, _, err := g.fieldType(field, s.KeySchema, indent)
		if err != nil {
			return "", nil, err
		}
		if s.ValueSchema.Type == data.TypeArray || s.ValueSchema.Type == data.TypeMap {
			return "", nil, fmt.Errorf("field %s: maps of arrays or maps are not supported", field)
		}
		v, nest, err := g.fieldType(field, s.ValueSchema, indent)
		return "map<" + k + ", " + v + ">", nest, err
	case data.TypeStruct:
		_, name := splitName(s.Name)
		if name == "" {
			name = strings.ToUpper(field[:1]) + field[1:]
		}
		if g.defined[indent+name] {
			return name, nil, nil
		}
		g.defined[indent+name] = true
		return name, func(b *strings.Builder) func() error {
			return func() error { return g.message(b, name, s, indent) }
		}, nil
	}
	return "", nil, fmt.Errorf("field %s: unsupported type %s", field, s.Type)
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
	case protoreflect.MessageKind:
		sub := newMsg()
		md := sub.Descriptor()
		switch md.FullName() {
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
