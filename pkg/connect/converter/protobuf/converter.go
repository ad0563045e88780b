// Package protobuf is Confluent's ProtobufConverter
// (io.confluent.connect.protobuf.ProtobufConverter): Connect data to and
// from Protocol Buffers in Confluent's wire format (magic byte 0, the
// 4-byte schema id, the message indexes as zig-zag varints, the message),
// with .proto schemas and their references in a Schema Registry. Schemas
// are compiled with github.com/bufbuild/protocompile and messages encoded
// with google.golang.org/protobuf (dynamicpb); this package maps them to
// Connect data (see toConnect and protoText for the rules).
package protobuf

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// Class is the converter's class name, Confluent's.
const Class = "io.confluent.connect.protobuf.ProtobufConverter"

const requestTimeout = 2 * time.Minute

// Converter is the ProtobufConverter. Construct it with New and Configure
// it once; it is then safe for concurrent use.
type Converter struct {
	isKey  bool
	serde  schemaregistry.SerdeSettings
	client *schemaregistry.Client
	gen    genOptions

	mu      sync.RWMutex
	files   map[int]protoreflect.FileDescriptor
	readers map[readerKey]*reader
	writers map[*data.Schema]*writer
}

type readerKey struct {
	id      int
	indexes string
}

type reader struct {
	md      protoreflect.MessageDescriptor
	connect *data.Schema
}

type writer struct {
	id int
	md protoreflect.MessageDescriptor
}

var _ connect.Converter = (*Converter)(nil)

// New returns an unconfigured converter.
func New() *Converter { return &Converter{} }

// Plugins lists the converter under Confluent's class name.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{Class: Class, Kind: connect.KindConverter, Version: "1.0.0",
		NewConverter: func() connect.Converter { return New() }}}
}

// Configure reads the registry's and the serializer's properties.
func (c *Converter) Configure(props map[string]string, isKey bool) error {
	serde, err := schemaregistry.ParseSerdeSettings(props, isKey)
	if err != nil {
		return err
	}
	client, err := schemaregistry.Shared(serde.Client)
	if err != nil {
		return err
	}
	gen, err := parseGenOptions(props)
	if err != nil {
		return err
	}
	c.serde, c.client, c.isKey, c.gen = serde, client, isKey, gen
	c.files, c.readers, c.writers = map[int]protoreflect.FileDescriptor{}, map[readerKey]*reader{}, map[*data.Schema]*writer{}
	return nil
}

// The ProtobufData settings the converter takes, Confluent's keys.
const (
	OptionalForNullablesConfig = "optional.for.nullables"
	WrapperForNullablesConfig  = "wrapper.for.nullables"
)

func parseGenOptions(props map[string]string) (genOptions, error) {
	var o genOptions
	var errs []error
	for key, into := range map[string]*bool{
		OptionalForNullablesConfig: &o.OptionalForNullables,
		WrapperForNullablesConfig:  &o.WrapperForNullables,
	} {
		v, ok := props[key]
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			*into = true
		case "false":
		default:
			errs = append(errs, &schemaregistry.ConfigError{Key: key, Value: v, Reason: "Expected value to be either true or false"})
		}
	}
	return o, errors.Join(errs...)
}

func dataErrorf(format string, args ...any) error {
	return &data.Error{Msg: fmt.Sprintf(format, args...)}
}

// ToConnectData reads a message in Confluent's wire format.
func (c *Converter) ToConnectData(topic string, value []byte) (*data.Schema, any, error) {
	if len(value) == 0 {
		return nil, nil, nil
	}
	fail := func(err error) error {
		return dataErrorf("Converting byte[] to Kafka Connect data failed due to serialization error of topic %s: %v", topic, err)
	}
	id, rest, err := schemaregistry.Decode(value)
	if err != nil {
		return nil, nil, fail(err)
	}
	indexes, payload, err := schemaregistry.DecodeMessageIndexes(rest)
	if err != nil {
		return nil, nil, fail(err)
	}
	r, err := c.reader(topic, id, indexes)
	if err != nil {
		return nil, nil, err
	}
	m := newMessage(r.md)
	if err := proto.Unmarshal(payload, m); err != nil {
		return nil, nil, fail(err)
	}
	v, err := toConnectValue(r.connect, m)
	if err != nil {
		return nil, nil, fail(err)
	}
	return r.connect, v, nil
}

func (c *Converter) fetch(ctx context.Context, ref schemaregistry.SchemaReference) (schemaregistry.Schema, error) {
	ss, err := c.client.SchemaByVersion(ctx, ref.Subject, ref.Version)
	if err != nil {
		return schemaregistry.Schema{}, err
	}
	return ss.Schema, nil
}

func (c *Converter) reader(topic string, id int, indexes []int) (*reader, error) {
	key := readerKey{id: id, indexes: fmt.Sprint(indexes)}
	c.mu.RLock()
	r, ok := c.readers[key]
	fd := c.files[id]
	c.mu.RUnlock()
	if ok {
		return r, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	// The schema's version is asked for every message index of id: with
	// the record strategies each message has its own subject. The client
	// answers from its caches after the first.
	var compileErr error
	s, version, err := c.serde.ReaderSchema(ctx, c.client, topic, c.isKey, id, func(s schemaregistry.Schema) (string, error) {
		if s.Type != schemaregistry.TypeProtobuf {
			return "", nil
		}
		if fd == nil {
			if fd, compileErr = compileSchema(ctx, s, c.fetch); compileErr != nil {
				return "", nil
			}
		}
		if md, err := messageAt(fd, indexes); err == nil {
			return string(md.FullName()), nil
		}
		return "", nil
	})
	if err != nil {
		return nil, schemaregistry.ConverterError("Converting byte[] to Kafka Connect data failed due to serialization error of topic "+topic, err)
	}
	if s.Type != schemaregistry.TypeProtobuf {
		return nil, dataErrorf("schema id %d is a %s schema, not Protobuf", id, s.Type)
	}
	if fd == nil && compileErr == nil {
		fd, compileErr = compileSchema(ctx, s, c.fetch)
	}
	if compileErr != nil {
		if schemaregistry.IsRetriable(compileErr) {
			return nil, schemaregistry.ConverterError("fetching the references of schema id "+strconv.Itoa(id), compileErr)
		}
		return nil, dataErrorf("schema id %d does not compile: %v", id, compileErr)
	}
	md, err := messageAt(fd, indexes)
	if err != nil {
		return nil, dataErrorf("schema id %d: %v", id, err)
	}
	cs, err := toConnect(md, version, 0)
	if err != nil {
		return nil, dataErrorf("schema id %d: %v", id, err)
	}
	r = &reader{md: md, connect: cs}
	c.mu.Lock()
	c.files[id] = fd
	c.readers[key] = r
	c.mu.Unlock()
	return r, nil
}

// FromConnectData writes a STRUCT value as a Protobuf message in
// Confluent's wire format, registering the .proto that protoText renders
// for its schema.
func (c *Converter) FromConnectData(topic string, schema *data.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	st, ok := value.(*data.Struct)
	if !ok || schema == nil {
		return nil, dataErrorf("the ProtobufConverter writes STRUCT values with a schema, not %T", value)
	}
	w, err := c.writer(topic, schema)
	if err != nil {
		return nil, err
	}
	m := newMessage(w.md)
	if err := fill(m, schema, st); err != nil {
		return nil, dataErrorf("Converting Kafka Connect data to byte[] failed due to serialization error of topic %s: %v", topic, err)
	}
	b := schemaregistry.AppendHeader(make([]byte, 0, 64), w.id)
	b = schemaregistry.AppendMessageIndexes(b, []int{0})
	out, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(b, m)
	if err != nil {
		return nil, dataErrorf("Converting Kafka Connect data to byte[] failed due to serialization error of topic %s: %v", topic, err)
	}
	return out, nil
}

func (c *Converter) writer(topic string, s *data.Schema) (*writer, error) {
	c.mu.RLock()
	w, ok := c.writers[s]
	c.mu.RUnlock()
	if ok {
		return w, nil
	}
	// A recursive schema (a recursive Avro record's) would send the
	// schema generator round its cycle.
	if err := data.RecursiveError(s, "the ProtobufConverter"); err != nil {
		return nil, err
	}
	text, err := protoText(s, c.gen)
	if err != nil {
		return nil, dataErrorf("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	rs := schemaregistry.Schema{Schema: text, Type: schemaregistry.TypeProtobuf}
	fd, err := compileSchema(ctx, rs, c.fetch)
	if err != nil {
		return nil, dataErrorf("the .proto of %s does not compile: %v\n%s", s, err, text)
	}
	subject, err := c.serde.Strategy.Subject(topic, c.isKey, s.Name)
	if err != nil {
		return nil, dataErrorf("%v", err)
	}
	id, err := c.serde.WriterID(ctx, c.client, subject, rs, "Protobuf schema")
	if err != nil {
		return nil, err
	}
	w = &writer{id: id, md: fd.Messages().Get(0)}
	c.mu.Lock()
	c.writers[s] = w
	c.mu.Unlock()
	return w, nil
}
