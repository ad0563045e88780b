package protobuf

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// Names and parameters of Confluent's ProtobufData.
const (
	// UnionName is the Connect STRUCT a oneof becomes.
	UnionName = "io.confluent.connect.protobuf.Union"
	// EnumParam is the Connect STRING parameter naming the enum; each
	// symbol is a further parameter EnumParam + "." + name with its number.
	EnumParam = "io.confluent.connect.protobuf.Enum"
	// TagParam is the parameter of a field's schema holding its number.
	TagParam = "io.confluent.connect.protobuf.Tag"
	// precisionParam is the Decimal schema parameter for the precision,
	// AvroData's and ProtobufData's.
	precisionParam = "connect.decimal.precision"
	// connectTypeParam in a field's confluent.field_meta marks an int32
	// that is a Connect INT8 or INT16.
	connectTypeParam = "connect.type"
)

// fetchSource returns the text of a referenced schema.
type fetchSource func(ctx context.Context, ref schemaregistry.SchemaReference) (schemaregistry.Schema, error)

// compileSchema turns a registered Protobuf schema (.proto text, or a
// base64 FileDescriptorProto as some serializers register) and its
// references into a file descriptor.
func compileSchema(ctx context.Context, s schemaregistry.Schema, fetch fetchSource) (protoreflect.FileDescriptor, error) {
	sources := map[string]string{}
	var load func(name string, s schemaregistry.Schema) error
	load = func(name string, s schemaregistry.Schema) error {
		text := s.Schema
		if isBase64Descriptor(text) {
			fd, err := descriptorText(text)
			if err != nil {
				return err
			}
			return errDescriptor{fd}
		}
		sources[name] = text
		for _, ref := range s.References {
			if _, done := sources[ref.Name]; done {
				continue
			}
			rs, err := fetch(ctx, ref)
			if err != nil {
				return err
			}
			if err := load(ref.Name, rs); err != nil {
				return err
			}
		}
		return nil
	}
	const main = "__sluice_main.proto"
	if err := load(main, s); err != nil {
		if d, ok := err.(interface {
			descriptor() *descriptorpb.FileDescriptorProto
		}); ok {
			return protodesc.NewFile(d.descriptor(), protoregistry.GlobalFiles)
		}
		if ed, ok := unwrapDescriptor(err); ok {
			return protodesc.NewFile(ed, knownRegistry())
		}
		return nil, err
	}
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: func(path string) (io.ReadCloser, error) {
			if t, ok := sources[path]; ok {
				return io.NopCloser(strings.NewReader(t)), nil
			}
			if t, ok := knownFiles[path]; ok {
				return io.NopCloser(strings.NewReader(t)), nil
			}
			return nil, fmt.Errorf("file %s not found (no schema reference names it)", path)
		}}),
	}
	files, err := c.Compile(ctx, main)
	if err != nil {
		return nil, err
	}
	return files[0], nil
}

type errDescriptor struct {
	fd *descriptorpb.FileDescriptorProto
}

func (e errDescriptor) Error() string { return "descriptor" }

func unwrapDescriptor(err error) (*descriptorpb.FileDescriptorProto, bool) {
	for err != nil {
		if d, ok := err.(errDescriptor); ok {
			return d.fd, true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return nil, false
		}
		err = u.Unwrap()
	}
	return nil, false
}

func isBase64Descriptor(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, " \n;{") {
		return false
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}

func descriptorText(s string) (*descriptorpb.FileDescriptorProto, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	fd := &descriptorpb.FileDescriptorProto{}
	if err := proto.Unmarshal(b, fd); err != nil {
		return nil, fmt.Errorf("not a FileDescriptorProto: %w", err)
	}
	return fd, nil
}

// knownRegistry holds the well-known types and Confluent's known files,
// to resolve the imports of a FileDescriptorProto.
func knownRegistry() *protoregistry.Files {
	files := new(protoregistry.Files)
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: func(path string) (io.ReadCloser, error) {
			if t, ok := knownFiles[path]; ok {
				return io.NopCloser(strings.NewReader(t)), nil
			}
			return nil, fmt.Errorf("file %s not found", path)
		}})}
	names := []string{"google/protobuf/timestamp.proto", "google/protobuf/wrappers.proto", "google/protobuf/any.proto",
		"google/protobuf/duration.proto", "google/protobuf/struct.proto", "google/protobuf/empty.proto"}
	for k := range knownFiles {
		names = append(names, k)
	}
	res, err := c.Compile(context.Background(), names...)
	if err != nil {
		return files
	}
	for _, f := range res {
		_ = registerWithDeps(files, f)
	}
	return files
}

func registerWithDeps(files *protoregistry.Files, f protoreflect.FileDescriptor) error {
	if _, err := files.FindFileByPath(f.Path()); err == nil {
		return nil
	}
	imps := f.Imports()
	for i := range imps.Len() {
		_ = registerWithDeps(files, imps.Get(i).FileDescriptor)
	}
	return files.RegisterFile(f)
}

// messageAt finds the message that the wire format's indexes name.
func messageAt(fd protoreflect.FileDescriptor, indexes []int) (protoreflect.MessageDescriptor, error) {
	if len(indexes) == 0 {
		indexes = []int{0}
	}
	msgs := fd.Messages()
	var md protoreflect.MessageDescriptor
	for _, i := range indexes {
		if i < 0 || i >= msgs.Len() {
			return nil, fmt.Errorf("message index %v out of range", indexes)
		}
		md = msgs.Get(i)
		msgs = md.Messages()
	}
	return md, nil
}

// toConnect maps a message to a Connect STRUCT after Confluent's
// ProtobufData: fields keep their order, all optional (proto3 has no
// required fields); scalars map by type (uint32 and the 64-bit integers to
// INT64), enums to STRING, repeated fields to ARRAY, maps to MAP, messages
// to optional STRUCTs named after the message, a oneof to an optional
// STRUCT io.confluent.connect.protobuf.Union named <oneof>_<index> in
// place of its fields, google.protobuf.Timestamp to Timestamp,
// google.type.Date to Date, the wrappers to optional primitives.
func toConnect(md protoreflect.MessageDescriptor, version int, depth int) (*data.Schema, error) {
	if depth > 32 {
		return nil, fmt.Errorf("message %s nests too deep (recursive messages are not supported)", md.FullName())
	}
	b := data.StructBuilder().Name(string(md.FullName()))
	if version > 0 {
		b.Version(int32(version))
	}
	fields := md.Fields()
	seenOneof := map[protoreflect.Name]bool{}
	for i := range fields.Len() {
		fd := fields.Get(i)
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			if seenOneof[od.Name()] {
				continue
			}
			seenOneof[od.Name()] = true
			ub := data.StructBuilder().Name(UnionName).Optional()
			ofs := od.Fields()
			for j := range ofs.Len() {
				s, err := fieldSchema(ofs.Get(j), depth)
				if err != nil {
					return nil, err
				}
				ub.Field(string(ofs.Get(j).Name()), optional(s))
			}
			us, err := ub.Build()
			if err != nil {
				return nil, err
			}
			b.Field(oneofName(od), us)
			continue
		}
		s, err := fieldSchema(fd, depth)
		if err != nil {
			return nil, err
		}
		b.Field(string(fd.Name()), s)
	}
	return b.Build()
}

func oneofName(od protoreflect.OneofDescriptor) string {
	return string(od.Name()) + "_" + strconv.Itoa(od.Index())
}

func optional(s *data.Schema) *data.Schema {
	if s.Optional {
		return s
	}
	c := *s
	c.Optional = true
	return &c
}

// fieldSchema is the Connect schema of a field, with its number in the
// io.confluent.connect.protobuf.Tag parameter (as ProtobufData gives it:
// the writer keeps the field numbers).
func fieldSchema(fd protoreflect.FieldDescriptor, depth int) (*data.Schema, error) {
	s, err := untaggedFieldSchema(fd, depth)
	if err != nil {
		return nil, err
	}
	c := *s
	c.Parameters = make(map[string]string, len(s.Parameters)+1)
	for k, v := range s.Parameters {
		c.Parameters[k] = v
	}
	c.Parameters[TagParam] = strconv.Itoa(int(fd.Number()))
	return &c, nil
}

func untaggedFieldSchema(fd protoreflect.FieldDescriptor, depth int) (*data.Schema, error) {
	if fd.IsMap() {
		k, err := scalarSchema(fd.MapKey(), depth)
		if err != nil {
			return nil, err
		}
		v, err := scalarSchema(fd.MapValue(), depth)
		if err != nil {
			return nil, err
		}
		return data.MapBuilder(k, v).Optional().Build()
	}
	s, err := scalarSchema(fd, depth)
	if err != nil {
		return nil, err
	}
	if fd.IsList() {
		return data.ArrayBuilder(s).Optional().Build()
	}
	return optional(s), nil
}

// scalarSchema is the schema of one value of fd (an element of a repeated
// field).
func scalarSchema(fd protoreflect.FieldDescriptor, depth int) (*data.Schema, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return data.BooleanSchema, nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		switch fieldMetaParams(fd)[connectTypeParam] {
		case "int8":
			return data.Int8Schema, nil
		case "int16":
			return data.Int16Schema, nil
		}
		return data.Int32Schema, nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Int64Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed64Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return data.Int64Schema, nil
	case protoreflect.FloatKind:
		return data.Float32Schema, nil
	case protoreflect.DoubleKind:
		return data.Float64Schema, nil
	case protoreflect.StringKind:
		return data.StringSchema, nil
	case protoreflect.BytesKind:
		return data.BytesSchema, nil
	case protoreflect.EnumKind:
		ed := fd.Enum()
		b := data.NewBuilder(data.TypeString).Parameter(EnumParam, string(ed.FullName()))
		vals := ed.Values()
		for i := range vals.Len() {
			b.Parameter(EnumParam+"."+string(vals.Get(i).Name()), strconv.Itoa(int(vals.Get(i).Number())))
		}
		return b.Build()
	case protoreflect.MessageKind, protoreflect.GroupKind:
		md := fd.Message()
		switch md.FullName() {
		case "google.protobuf.Timestamp":
			return data.TimestampSchema().Optional().Build()
		case "google.type.Date":
			return data.DateSchema().Optional().Build()
		case "google.protobuf.StringValue":
			return data.OptionalStringSchema, nil
		case "google.protobuf.BytesValue":
			return data.OptionalBytesSchema, nil
		case "google.protobuf.BoolValue":
			return data.OptionalBooleanSchema, nil
		case "google.protobuf.Int32Value":
			return data.OptionalInt32Schema, nil
		case "google.protobuf.UInt32Value", "google.protobuf.Int64Value", "google.protobuf.UInt64Value":
			return data.OptionalInt64Schema, nil
		case "google.protobuf.FloatValue":
			return data.OptionalFloat32Schema, nil
		case "google.protobuf.DoubleValue":
			return data.OptionalFloat64Schema, nil
		case "confluent.type.Decimal":
			// The precision and scale are in the field's
			// confluent.field_meta (scale 0 when it has none).
			params := fieldMetaParams(fd)
			scale, _ := strconv.ParseInt(params["scale"], 10, 32)
			b := data.DecimalSchema(int32(scale)).Optional()
			if p, ok := params["precision"]; ok {
				if _, err := strconv.Atoi(p); err == nil {
					b.Parameter(precisionParam, p)
				}
			}
			return b.Build()
		case "google.type.TimeOfDay":
			return data.TimeSchema().Optional().Build()
		}
		s, err := toConnect(md, 0, depth+1)
		if err != nil {
			return nil, err
		}
		return optional(s), nil
	}
	return nil, fmt.Errorf("unsupported field kind %s", fd.Kind())
}

// toConnectValue reads a message as a Connect value of s.
func toConnectValue(s *data.Schema, m protoreflect.Message) (*data.Struct, error) {
	st := data.NewStruct(s)
	md := m.Descriptor()
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			set := m.WhichOneof(od)
			if set == nil {
				continue
			}
			name := oneofName(od)
			if st.GetWithoutDefault(name) != nil {
				continue
			}
			us := s.Field(name).Schema
			u := data.NewStruct(us)
			v, err := fieldValue(us.Field(string(set.Name())).Schema, set, m.Get(set))
			if err != nil {
				return nil, err
			}
			if err := u.Put(string(set.Name()), v); err != nil {
				return nil, err
			}
			if err := st.Put(name, u); err != nil {
				return nil, err
			}
			continue
		}
		f := s.Field(string(fd.Name()))
		if fd.HasPresence() && !m.Has(fd) {
			continue
		}
		v, err := fieldValue(f.Schema, fd, m.Get(fd))
		if err != nil {
			return nil, err
		}
		if v != nil {
			if err := st.Put(f.Name, v); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

func fieldValue(s *data.Schema, fd protoreflect.FieldDescriptor, v protoreflect.Value) (any, error) {
	if fd.IsMap() {
		out := map[any]any{}
		var err error
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			var ck, cv any
			if ck, err = scalarValue(s.KeySchema, fd.MapKey(), k.Value()); err != nil {
				return false
			}
			if cv, err = scalarValue(s.ValueSchema, fd.MapValue(), mv); err != nil {
				return false
			}
			out[ck] = cv
			return true
		})
		return out, err
	}
	if fd.IsList() {
		l := v.List()
		out := make([]any, l.Len())
		for i := range l.Len() {
			e, err := scalarValue(s.ValueSchema, fd, l.Get(i))
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	return scalarValue(s, fd, v)
}

func scalarValue(s *data.Schema, fd protoreflect.FieldDescriptor, v protoreflect.Value) (any, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return v.Bool(), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		switch s.Type {
		case data.TypeInt8:
			return int8(v.Int()), nil
		case data.TypeInt16:
			return int16(v.Int()), nil
		}
		return int32(v.Int()), nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int(), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return int64(v.Uint()), nil
	case protoreflect.FloatKind:
		return float32(v.Float()), nil
	case protoreflect.DoubleKind:
		return v.Float(), nil
	case protoreflect.StringKind:
		return v.String(), nil
	case protoreflect.BytesKind:
		return bytes.Clone(v.Bytes()), nil
	case protoreflect.EnumKind:
		ev := fd.Enum().Values().ByNumber(v.Enum())
		if ev == nil {
			return strconv.Itoa(int(v.Enum())), nil
		}
		return string(ev.Name()), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		m := v.Message()
		if !m.IsValid() {
			return nil, nil
		}
		md := m.Descriptor()
		get := func(name protoreflect.Name) protoreflect.Value { return m.Get(md.Fields().ByName(name)) }
		switch md.FullName() {
		case "google.protobuf.Timestamp":
			return time.Unix(get("seconds").Int(), get("nanos").Int()).UTC().Truncate(time.Millisecond), nil
		case "google.type.Date":
			return time.Date(int(get("year").Int()), time.Month(get("month").Int()), int(get("day").Int()), 0, 0, 0, 0, time.UTC), nil
		case "google.protobuf.StringValue", "google.protobuf.BytesValue", "google.protobuf.BoolValue",
			"google.protobuf.Int32Value", "google.protobuf.UInt32Value", "google.protobuf.Int64Value",
			"google.protobuf.UInt64Value", "google.protobuf.FloatValue", "google.protobuf.DoubleValue":
			return scalarValue(s, md.Fields().ByName("value"), get("value"))
		case "confluent.type.Decimal":
			raw := get("value").Bytes()
			u := new(big.Int).SetBytes(raw)
			if len(raw) > 0 && raw[0]&0x80 != 0 {
				u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(len(raw))*8))
			}
			d := data.Decimal{Unscaled: u, Scale: int32(get("scale").Int())}
			// A value of a smaller scale than its schema's is the same
			// number at the schema's scale (Connect's Decimal requires
			// the schema's).
			if want, err := data.DecimalScale(s); err == nil && want > d.Scale {
				d.Unscaled = new(big.Int).Mul(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(want-d.Scale)), nil))
				d.Scale = want
			}
			return d, nil
		case "google.type.TimeOfDay":
			ns := ((get("hours").Int()*60+get("minutes").Int())*60+get("seconds").Int())*1e9 + get("nanos").Int()
			return time.UnixMilli(ns / 1e6).UTC(), nil
		}
		return toConnectValue(s, m)
	}
	return nil, fmt.Errorf("unsupported field kind %s", fd.Kind())
}

// fieldMetaParams returns the params of a field's confluent.field_meta
// option (extension 1088 of FieldOptions, Confluent's meta.proto), read
// from the options' wire form: the same whether the compiler resolved the
// extension or kept it as unknown fields.
func fieldMetaParams(fd protoreflect.FieldDescriptor) map[string]string {
	opts := fd.Options()
	if opts == nil {
		return nil
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(opts)
	if err != nil {
		return nil
	}
	var params map[string]string
	for _, meta := range bytesFields(b, fieldMetaNumber) {
		for _, entry := range bytesFields(meta, 2) {
			var k, v string
			if ks := bytesFields(entry, 1); len(ks) > 0 {
				k = string(ks[len(ks)-1])
			}
			if vs := bytesFields(entry, 2); len(vs) > 0 {
				v = string(vs[len(vs)-1])
			}
			if params == nil {
				params = map[string]string{}
			}
			params[k] = v
		}
	}
	return params
}

// fieldMetaNumber is confluent.field_meta's extension number.
const fieldMetaNumber = 1088

// bytesFields returns the length-delimited fields numbered num of a
// message's wire form (nothing when it does not parse).
func bytesFields(b []byte, num protowire.Number) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return out
		}
		b = b[l:]
		if typ == protowire.BytesType && n == num {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return out
			}
			out = append(out, v)
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return out
		}
		b = b[l:]
	}
	return out
}

func newMessage(md protoreflect.MessageDescriptor) *dynamicpb.Message {
	return dynamicpb.NewMessage(md)
}
