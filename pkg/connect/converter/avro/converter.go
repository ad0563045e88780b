// Package avro is Confluent's AvroConverter
// (io.confluent.connect.avro.AvroConverter): Connect data to and from Avro
// in Confluent's wire format (magic byte 0, the 4-byte schema id, the Avro
// binary payload), with the schemas in a Schema Registry.
//
// Avro schemas map to Connect schemas as Confluent's AvroData maps them,
// both ways:
//
//	Avro                          Connect
//	boolean, float, double        BOOLEAN, FLOAT32, FLOAT64
//	int (connect.type int8/int16) INT32 (INT8, INT16)
//	long, string, bytes           INT64, STRING, BYTES
//	bytes/fixed decimal(p, s)     Decimal with scale s (and connect.decimal.precision p unless 64)
//	int date, int time-millis     Date, Time
//	long timestamp-millis         Timestamp
//	fixed                         BYTES with connect.fixed.size
//	enum                          STRING with io.confluent.connect.avro.Enum parameters
//	array, map                    ARRAY, MAP with STRING keys
//	array of MapEntry records     MAP with non-string keys
//	record                        STRUCT named after the record's full name
//	[null, T] or [T, null]        optional T
//	other unions                  STRUCT io.confluent.connect.avro.Union, one optional field per member
//
// connect.name, connect.doc, connect.version, connect.parameters and
// connect.default carry what Avro cannot say; a record field's doc and
// default become its Connect schema's; the top-level schema's version is
// the registry's version of the schema under its subject (one lookup per
// schema, cached), as Confluent's converter does.
//
// Avro schemas are parsed by github.com/twmb/avro; this package maps them
// to Connect schemas and reads and writes the binary encoding driven by
// them (binary.go).
package avro

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// Class is the converter's class name, Confluent's.
const Class = "io.confluent.connect.avro.AvroConverter"

// Converter properties besides the registry's (schemaregistry's keys).
const (
	// ConnectMetaDataConfig ("connect.meta.data", default true) writes the
	// connect.* properties into the Avro schemas and reads
	// connect.parameters back.
	ConnectMetaDataConfig = "connect.meta.data"
	// EnhancedSchemaSupportConfig ("enhanced.avro.schema.support", default
	// false) keeps enums as Avro enums when writing and names union
	// fields after the members' full names.
	EnhancedSchemaSupportConfig = "enhanced.avro.schema.support"
	// SchemasCacheConfig ("schemas.cache.config", default 1000) bounds the
	// converter's caches of compiled schemas.
	SchemasCacheConfig = "schemas.cache.config"
)

// requestTimeout bounds one registry call the converter makes (the
// Converter interface carries no context).
const requestTimeout = 2 * time.Minute

type options struct {
	connectMetaData bool
	enhanced        bool
}

// Converter is the AvroConverter. Construct it with New and Configure it
// once; it is then safe for concurrent use.
type Converter struct {
	opts      options
	isKey     bool
	serde     schemaregistry.SerdeSettings
	client    *schemaregistry.Client
	cacheSize int

	mu sync.RWMutex
	// readers are compiled writer schemas by id; writers the registered
	// schemas of Connect schemas (by pointer: Connect schemas are
	// immutable) and of their Avro text.
	readers map[int]*node
	writers map[*data.Schema]*registered
	byText  map[string]*registered
}

// registered is a Connect schema's registered Avro schema: its id and
// compiled node.
type registered struct {
	id   int
	node *node
}

var _ connect.Converter = (*Converter)(nil)

// New returns an unconfigured converter with Confluent's defaults.
func New() *Converter {
	return &Converter{opts: options{connectMetaData: true}, cacheSize: 1000}
}

// Configure reads Confluent's properties: schema.registry.url and the
// other registry keys, auto.register.schemas, use.latest.version,
// latest.compatibility.strict, normalize.schemas, use.schema.id,
// key.subject.name.strategy/value.subject.name.strategy,
// connect.meta.data, enhanced.avro.schema.support and
// schemas.cache.config. Every bad value is reported.
func (c *Converter) Configure(props map[string]string, isKey bool) error {
	var errs []error
	serde, err := schemaregistry.ParseSerdeSettings(props, isKey)
	if err != nil {
		errs = append(errs, err)
	}
	boolKey := func(k string, def bool) bool {
		v, ok := props[k]
		if !ok {
			return def
		}
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true
		case "false":
			return false
		}
		errs = append(errs, &schemaregistry.ConfigError{Key: k, Value: v, Reason: "Expected value to be either true or false"})
		return def
	}
	c.opts.connectMetaData = boolKey(ConnectMetaDataConfig, true)
	c.opts.enhanced = boolKey(EnhancedSchemaSupportConfig, false)
	c.cacheSize = 1000
	if v, ok := props[SchemasCacheConfig]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			errs = append(errs, &schemaregistry.ConfigError{Key: SchemasCacheConfig, Value: v, Reason: "Not a non-negative number of type INT"})
		} else {
			c.cacheSize = n
		}
	}
	if len(errs) > 0 {
		return joinErrors(errs)
	}
	client, err := schemaregistry.Shared(serde.Client)
	if err != nil {
		return err
	}
	c.serde, c.client, c.isKey = serde, client, isKey
	c.mu.Lock()
	c.readers, c.writers, c.byText = map[int]*node{}, map[*data.Schema]*registered{}, map[string]*registered{}
	c.mu.Unlock()
	return nil
}

// Client returns the registry client (shared by converters configured
// alike), for its request count.
func (c *Converter) Client() *schemaregistry.Client { return c.client }

// ToConnectData reads a value in Confluent's wire format. Nil or empty
// bytes are a tombstone (nil schema and value).
func (c *Converter) ToConnectData(topic string, value []byte) (*data.Schema, any, error) {
	if len(value) == 0 {
		return nil, nil, nil
	}
	id, payload, err := schemaregistry.Decode(value)
	if err != nil {
		return nil, nil, dataErrorf("Converting byte[] to Kafka Connect data failed due to serialization error of topic %s: %v", topic, err)
	}
	n, err := c.reader(topic, id)
	if err != nil {
		return nil, nil, err
	}
	r := reader{b: payload}
	v := n.read(&r)
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d bytes left after the value", len(r.b))
	}
	if r.err != nil {
		return nil, nil, dataErrorf("Converting byte[] to Kafka Connect data failed due to serialization error of topic %s: Error deserializing Avro message for id %d: %v", topic, id, r.err)
	}
	return n.connect, v, nil
}

// reader returns the compiled schema of id, fetching it (and its version
// under the topic's subject) once.
func (c *Converter) reader(topic string, id int) (*node, error) {
	c.mu.RLock()
	n, ok := c.readers[id]
	c.mu.RUnlock()
	if ok {
		return n, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	var as *schema
	s, version, err := c.serde.ReaderSchema(ctx, c.client, topic, c.isKey, id, func(s schemaregistry.Schema) (string, error) {
		if s.Type != schemaregistry.TypeAvro {
			return "", nil
		}
		if as, err := parse(s.Schema); err == nil {
			if t := as.resolve(as.root).Type; t == "record" || t == "enum" || t == "fixed" {
				return fullName(as.resolve(as.root)), nil
			}
		}
		return "", nil
	})
	if err != nil {
		return nil, schemaregistry.ConverterError("Converting byte[] to Kafka Connect data failed due to serialization error of topic "+topic, err)
	}
	if s.Type != schemaregistry.TypeAvro {
		return nil, dataErrorf("schema id %d is a %s schema, not Avro", id, s.Type)
	}
	if as, err = parse(s.Schema); err != nil {
		return nil, dataErrorf("schema id %d does not parse as Avro: %v", id, err)
	}
	n, err = c.opts.toConnect(as, version)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.cacheSize > 0 && len(c.readers) >= c.cacheSize {
		clear(c.readers)
	}
	c.readers[id] = n
	c.mu.Unlock()
	return n, nil
}

// FromConnectData writes value in Confluent's wire format. A nil schema
// with a nil value is a tombstone (nil bytes).
func (c *Converter) FromConnectData(topic string, schema *data.Schema, value any) ([]byte, error) {
	if schema == nil && value == nil {
		return nil, nil
	}
	if schema == nil {
		return nil, dataErrorf("the AvroConverter needs a schema to write a value of topic %s", topic)
	}
	if value == nil {
		return nil, nil // Confluent's serializer writes null as null
	}
	w, err := c.writer(topic, schema)
	if err != nil {
		return nil, err
	}
	aw := writer{b: schemaregistry.AppendHeader(make([]byte, 0, 256), w.id)}
	if err := w.node.write(&aw, value); err != nil {
		return nil, dataErrorf("Failed to serialize Avro data from topic %s: %v", topic, err)
	}
	return aw.b, nil
}

// writer returns the registered schema for a Connect schema: its Avro
// schema registered (auto.register.schemas), looked up, the subject's
// latest (use.latest.version) or the one of use.schema.id.
func (c *Converter) writer(topic string, s *data.Schema) (*registered, error) {
	c.mu.RLock()
	w, ok := c.writers[s]
	c.mu.RUnlock()
	if ok {
		return w, nil
	}
	text, err := c.opts.fromConnectSchema(s)
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	w, ok = c.byText[text]
	c.mu.RUnlock()
	if !ok {
		if w, err = c.register(topic, s, text); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	if c.cacheSize > 0 && len(c.writers) >= c.cacheSize {
		clear(c.writers)
		clear(c.byText)
	}
	c.writers[s], c.byText[text] = w, w
	c.mu.Unlock()
	return w, nil
}

func (c *Converter) register(topic string, s *data.Schema, text string) (*registered, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	subject, err := c.serde.Strategy.Subject(topic, c.isKey, s.Name)
	if err != nil {
		return nil, dataErrorf("%v", err)
	}
	fail := func(err error) error {
		return schemaregistry.ConverterError("Failed to access Avro data from topic "+topic+" (subject "+subject+")", err)
	}
	rs := schemaregistry.Schema{Schema: text}
	var id int
	switch {
	case c.serde.UseSchemaID >= 0:
		id = c.serde.UseSchemaID
		got, err := c.client.SchemaByID(ctx, id)
		if err != nil {
			return nil, fail(err)
		}
		text = got.Schema
	case c.serde.UseLatestVersion:
		ss, err := c.client.Latest(ctx, subject)
		if err != nil {
			return nil, fail(err)
		}
		if c.serde.LatestCompatStrict {
			ok, msgs, err := c.client.CheckCompatibility(ctx, subject, ss.Version, rs)
			if err != nil {
				return nil, fail(err)
			}
			if !ok {
				return nil, dataErrorf("Schema not found; the latest schema of subject %s is not compatible with the record's: %s", subject, strings.Join(msgs, "; "))
			}
		}
		id, text = ss.ID, ss.Schema.Schema
	case c.serde.AutoRegister:
		if id, err = c.client.Register(ctx, subject, rs, c.serde.Normalize); err != nil {
			return nil, fail(err)
		}
	default:
		ss, err := c.client.Lookup(ctx, subject, rs, c.serde.Normalize)
		if err != nil {
			return nil, fail(err)
		}
		id = ss.ID
	}
	as, err := parse(text)
	if err != nil {
		return nil, dataErrorf("the Avro schema of %s does not parse: %v", s, err)
	}
	n, err := c.opts.toConnect(as, 0)
	if err != nil {
		return nil, err
	}
	return &registered{id: id, node: n}, nil
}

// Plugins lists the converter under Confluent's class name.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{
		Class:        Class,
		Kind:         connect.KindConverter,
		Version:      "1.0.0",
		NewConverter: func() connect.Converter { return New() },
	}}
}
