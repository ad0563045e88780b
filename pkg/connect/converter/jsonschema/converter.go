// Package jsonschema is Confluent's JsonSchemaConverter
// (io.confluent.connect.json.JsonSchemaConverter): Connect data to and from
// JSON in Confluent's wire format (magic byte 0, the 4-byte schema id, the
// JSON text), with JSON Schemas (drafts 7 and 2020-12, by their $schema;
// draft 7 without one) in a Schema Registry. Each payload read is
// validated against its schema (github.com/santhosh-tekuri/jsonschema/v6),
// and so is each payload written when json.fail.invalid.schema is true.
//
// Schemas map as Confluent's JsonSchemaData: "object" with properties is a
// STRUCT named after its title (properties not "required" are optional),
// "object" with additionalProperties a MAP, "integer" INT64 and "number"
// FLOAT64 unless connect.type says int8/int16/int32/float32, "string" with
// connect.type bytes BYTES (base64), Connect's logical types by their
// title (Decimal as a number), a oneOf of null and one schema an optional
// schema, other oneOfs a STRUCT io.confluent.connect.json.OneOf.
package jsonschema

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	js "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// Class is the converter's class name, Confluent's.
const Class = "io.confluent.connect.json.JsonSchemaConverter"

// FailInvalidSchemaConfig ("json.fail.invalid.schema", default false)
// validates written payloads against their schema too.
const FailInvalidSchemaConfig = "json.fail.invalid.schema"

const requestTimeout = 2 * time.Minute

// Converter is the JsonSchemaConverter. Construct it with New and
// Configure it once; it is then safe for concurrent use.
type Converter struct {
	isKey       bool
	serde       schemaregistry.SerdeSettings
	client      *schemaregistry.Client
	validateOut bool
	mu          sync.RWMutex
	readers     map[int]*reader
	writers     map[*data.Schema]*writerEntry
}

type reader struct {
	connect   *data.Schema
	validator *js.Schema
}

type writerEntry struct {
	id        int
	validator *js.Schema
}

var _ connect.Converter = (*Converter)(nil)

// New returns an unconfigured converter.
func New() *Converter { return &Converter{} }

// Plugins lists the converter under Confluent's class name.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{Class: Class, Kind: connect.KindConverter, Version: "1.0.0",
		NewConverter: func() connect.Converter { return New() }}}
}

// Configure reads the registry's properties and the serializer's
// (auto.register.schemas, use.latest.version, the subject name strategies,
// ...) and json.fail.invalid.schema.
func (c *Converter) Configure(props map[string]string, isKey bool) error {
	serde, err := schemaregistry.ParseSerdeSettings(props, isKey)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if v, ok := props[FailInvalidSchemaConfig]; ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			c.validateOut = true
		case "false":
		default:
			errs = append(errs, &schemaregistry.ConfigError{Key: FailInvalidSchemaConfig, Value: v, Reason: "Expected value to be either true or false"})
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	client, err := schemaregistry.Shared(serde.Client)
	if err != nil {
		return err
	}
	c.serde, c.client, c.isKey = serde, client, isKey
	c.readers, c.writers = map[int]*reader{}, map[*data.Schema]*writerEntry{}
	return nil
}

func dataErrorf(format string, args ...any) error {
	return &data.Error{Msg: fmt.Sprintf(format, args...)}
}

// compile parses a JSON schema's text into its ordered form and a
// validator. refs are the schemas its references name (parsed), added to
// the validator under their reference names, which its "$ref"s use.
func compile(text string, refs map[string]any) (any, *js.Schema, error) {
	doc, err := parseOrdered([]byte(text))
	if err != nil {
		return nil, nil, err
	}
	comp := js.NewCompiler()
	comp.DefaultDraft(js.Draft7)
	added := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(refs)) {
		ref := refs[name]
		// Under its reference name, and under its absolute $id, which
		// references relative to another $id resolve to (two references
		// may name one schema).
		urls := []string{name}
		if o, ok := ref.(*object); ok {
			if id := o.str("$id"); strings.Contains(id, "://") {
				urls = append(urls, id)
			}
		}
		for _, u := range urls {
			if added[u] {
				continue
			}
			added[u] = true
			if err := comp.AddResource(u, toPlain(ref)); err != nil {
				return nil, nil, fmt.Errorf("referenced schema %s: %w", name, err)
			}
		}
	}
	if err := comp.AddResource("schema.json", toPlain(doc)); err != nil {
		return nil, nil, err
	}
	v, err := comp.Compile("schema.json")
	if err != nil {
		return nil, nil, err
	}
	return doc, v, nil
}

// ToConnectData reads a value in Confluent's wire format, validating the
// JSON against its schema.
func (c *Converter) ToConnectData(topic string, value []byte) (*data.Schema, any, error) {
	if len(value) == 0 {
		return nil, nil, nil
	}
	id, payload, err := schemaregistry.Decode(value)
	if err != nil {
		return nil, nil, dataErrorf("Converting byte[] to Kafka Connect data failed due to serialization error of topic %s: %v", topic, err)
	}
	r, err := c.reader(topic, id)
	if err != nil {
		return nil, nil, err
	}
	doc, err := parseOrdered(payload)
	if err != nil {
		return nil, nil, dataErrorf("Converting byte[] to Kafka Connect data failed due to serialization error of topic %s: invalid JSON: %v", topic, err)
	}
	if err := r.validator.Validate(toPlain(doc)); err != nil {
		return nil, nil, dataErrorf("Converting byte[] to Kafka Connect data failed due to serialization error of topic %s: Validation error in JSON %s, Error report:\n%v", topic, payload, err)
	}
	v, err := toConnectValue(r.connect, doc)
	if err != nil {
		return nil, nil, dataErrorf("Converting byte[] to Kafka Connect data failed due to serialization error of topic %s: %v", topic, err)
	}
	return r.connect, v, nil
}

func (c *Converter) reader(topic string, id int) (*reader, error) {
	c.mu.RLock()
	r, ok := c.readers[id]
	c.mu.RUnlock()
	if ok {
		return r, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	s, version, err := c.serde.ReaderSchema(ctx, c.client, topic, c.isKey, id, func(s schemaregistry.Schema) (string, error) {
		if doc, err := parseOrdered([]byte(s.Schema)); err == nil {
			if o, ok := doc.(*object); ok {
				return o.str("title"), nil
			}
		}
		return "", nil
	})
	if err != nil {
		return nil, schemaregistry.ConverterError("Converting byte[] to Kafka Connect data failed due to serialization error of topic "+topic, err)
	}
	if s.Type != schemaregistry.TypeJSON {
		return nil, dataErrorf("schema id %d is a %s schema, not JSON", id, s.Type)
	}
	refs := map[string]any{}
	if err := c.references(ctx, s.References, refs); err != nil {
		return nil, schemaregistry.ConverterError(fmt.Sprintf("Converting byte[] to Kafka Connect data failed due to serialization error of topic %s: the references of schema id %d", topic, id), err)
	}
	doc, v, err := compile(s.Schema, refs)
	if err != nil {
		return nil, dataErrorf("schema id %d is not a valid JSON schema: %v", id, err)
	}
	cs, err := (&schemaCtx{root: doc, refs: refs}).toConnect(doc, false)
	if err != nil {
		return nil, dataErrorf("JSON schema id %d is not supported: %v", id, err)
	}
	if cs.Type == data.TypeStruct && cs.Version == nil && version > 0 {
		vs := *cs
		ver := int32(version)
		vs.Version = &ver
		cs = &vs
	}
	r = &reader{connect: cs, validator: v}
	c.mu.Lock()
	c.readers[id] = r
	c.mu.Unlock()
	return r, nil
}

// references fetches the schemas that refs name (each a subject's
// version, as Confluent's JsonSchema resolves its references), and theirs
// in turn, into out by reference name: each subject version once, however
// many references name it.
func (c *Converter) references(ctx context.Context, refs []schemaregistry.SchemaReference, out map[string]any) error {
	type subjectVersion struct {
		subject string
		version int
	}
	fetched := map[subjectVersion]schemaregistry.SubjectSchema{}
	var walk func([]schemaregistry.SchemaReference) error
	walk = func(refs []schemaregistry.SchemaReference) error {
		for _, ref := range refs {
			if _, done := out[ref.Name]; done {
				continue
			}
			sv := subjectVersion{ref.Subject, ref.Version}
			ss, ok := fetched[sv]
			if !ok {
				var err error
				if ss, err = c.client.SchemaByVersion(ctx, ref.Subject, ref.Version); err != nil {
					return fmt.Errorf("reference %s (subject %s, version %d): %w", ref.Name, ref.Subject, ref.Version, err)
				}
				fetched[sv] = ss
			}
			doc, err := parseOrdered([]byte(ss.Schema.Schema))
			if err != nil {
				return &data.Error{Msg: fmt.Sprintf("reference %s (subject %s, version %d) is not valid JSON: %v", ref.Name, ref.Subject, ref.Version, err)}
			}
			out[ref.Name] = doc
			if err := walk(ss.Schema.References); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(refs)
}

// FromConnectData writes value as JSON in Confluent's wire format,
// registering (or looking up) the JSON schema of its Connect schema.
func (c *Converter) FromConnectData(topic string, schema *data.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	if schema == nil {
		return nil, dataErrorf("the JsonSchemaConverter needs a schema to write a value of topic %s", topic)
	}
	w, err := c.writer(topic, schema)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(schemaregistry.AppendHeader(nil, w.id))
	if err := appendValue(&b, schema, value); err != nil {
		return nil, dataErrorf("Converting Kafka Connect data to byte[] failed due to serialization error of topic %s: %v", topic, err)
	}
	if c.validateOut {
		doc, err := parseOrdered(b.Bytes()[schemaregistry.HeaderSize:])
		if err == nil {
			err = w.validator.Validate(toPlain(doc))
		}
		if err != nil {
			return nil, dataErrorf("Converting Kafka Connect data to byte[] failed due to serialization error of topic %s: %v", topic, err)
		}
	}
	return b.Bytes(), nil
}

func (c *Converter) writer(topic string, s *data.Schema) (*writerEntry, error) {
	c.mu.RLock()
	w, ok := c.writers[s]
	c.mu.RUnlock()
	if ok {
		return w, nil
	}
	// A recursive schema (a recursive Avro record's) would send the
	// schema generator round its cycle.
	if err := data.RecursiveError(s, "the JsonSchemaConverter"); err != nil {
		return nil, err
	}
	o, err := fromConnect(s, -1)
	if err != nil {
		return nil, dataErrorf("%v", err)
	}
	text, err := o.MarshalJSON()
	if err != nil {
		return nil, err
	}
	_, validator, err := compile(string(text), nil)
	if err != nil {
		return nil, dataErrorf("the JSON schema of %s does not compile: %v", s, err)
	}
	subject, err := c.serde.Strategy.Subject(topic, c.isKey, s.Name)
	if err != nil {
		return nil, dataErrorf("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	rs := schemaregistry.Schema{Schema: string(text), Type: schemaregistry.TypeJSON}
	id, err := c.serde.WriterID(ctx, c.client, subject, rs, "JSON schema")
	if err != nil {
		return nil, err
	}
	w = &writerEntry{id: id, validator: validator}
	c.mu.Lock()
	c.writers[s] = w
	c.mu.Unlock()
	return w, nil
}
