package transforms

import (
	"log/slog"
	"regexp"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
	"github.com/sluicehq/sluice/pkg/debezium"
)

// ByLogicalTableRouter's keys (Debezium's names and defaults).
const (
	bltrTopicRegex       = "topic.regex"
	bltrTopicReplacement = "topic.replacement"
	bltrKeyUnique        = "key.enforce.uniqueness"
	bltrKeyFieldName     = "key.field.name"
	bltrKeyFieldRegex    = "key.field.regex"
	bltrKeyFieldRepl     = "key.field.replacement"
)

func byLogicalTableRouterConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: bltrTopicRegex, Type: config.String, Default: config.NoDefault, Validator: config.Regex(),
			Importance: config.Low, Width: config.WidthLong, Doc: "The regex used for extracting the name of the logical table from the original topic name."}).
		Define(config.Key{Name: bltrTopicReplacement, Type: config.String, Default: config.NoDefault,
			Importance: config.Low, Width: config.WidthLong, Doc: "The replacement string used in conjunction with topic.regex: the new topic."}).
		Define(config.Key{Name: bltrKeyUnique, Type: config.Boolean, Default: true,
			Importance: config.Low, Width: config.WidthShort, Doc: "Augment each record's key with a field naming its physical table, so keys stay unique across the tables sharing a topic."}).
		Define(config.Key{Name: bltrKeyFieldName, Type: config.String, Default: "__dbz__physicalTableIdentifier",
			Importance: config.Low, Width: config.WidthLong, Doc: "The name of the key field naming the physical table."}).
		Define(config.Key{Name: bltrKeyFieldRegex, Type: config.String, Default: nil,
			Importance: config.Low, Width: config.WidthLong, Doc: "The regex applied to the original topic to build the physical table identifier (default: the original topic)."}).
		Define(config.Key{Name: bltrKeyFieldRepl, Type: config.String, Default: nil,
			Importance: config.Low, Width: config.WidthLong, Doc: "The replacement used with key.field.regex; required when it is set."})
}

// ByLogicalTableRouter is Debezium's io.debezium.transforms.ByLogicalTableRouter:
// records whose topic matches topic.regex (the whole name) go to the topic
// topic.replacement names, their key gains a field naming the physical
// table (key.enforce.uniqueness), and the key, value and envelope schemas
// are renamed after the new topic. Tombstones and records that are not
// change events keep their value. A configured router is safe for
// concurrent use.
type ByLogicalTableRouter struct {
	topicFull, topicFirst *regexp.Regexp
	topicRepl             []regexRouterPiece
	unique                bool
	keyField              string
	keyFull, keyFirst     *regexp.Regexp
	keyRepl               []regexRouterPiece
}

var _ connect.Transformation = (*ByLogicalTableRouter)(nil)

// NewByLogicalTableRouter returns an unconfigured router.
func NewByLogicalTableRouter() *ByLogicalTableRouter { return &ByLogicalTableRouter{} }

// Config returns the router's keys.
func (t *ByLogicalTableRouter) Config() *config.Def { return byLogicalTableRouterConfig() }

// Configure reads the keys.
func (t *ByLogicalTableRouter) Configure(props map[string]string) error {
	vals, err := t.Config().Parse(props)
	if err != nil {
		return err
	}
	if t.topicFull, t.topicFirst, err = regexRouterCompile(vals.String(bltrTopicRegex)); err != nil {
		return config.InvalidValue(bltrTopicRegex, vals.String(bltrTopicRegex), err.Error())
	}
	if t.topicRepl, err = regexRouterParseReplacement(vals.String(bltrTopicReplacement), t.topicFirst); err != nil {
		return err
	}
	t.unique, t.keyField = vals.Bool(bltrKeyUnique), vals.String(bltrKeyFieldName)
	if re := strings.TrimSpace(vals.String(bltrKeyFieldRegex)); re != "" {
		repl := strings.TrimSpace(vals.String(bltrKeyFieldRepl))
		if repl == "" {
			return config.InvalidValue(bltrKeyFieldRepl, nil, bltrKeyFieldRepl+" must be non-empty if "+bltrKeyFieldRegex+" is set.")
		}
		if t.keyFull, t.keyFirst, err = regexRouterCompile(re); err != nil {
			return config.InvalidValue(bltrKeyFieldRegex, re, err.Error())
		}
		if t.keyRepl, err = regexRouterParseReplacement(vals.String(bltrKeyFieldRepl), t.keyFirst); err != nil {
			return err
		}
	}
	return nil
}

// Apply reroutes a record whose topic matches.
func (t *ByLogicalTableRouter) Apply(r *connect.TransformRecord) (bool, error) {
	old := r.Topic
	if !t.topicFull.MatchString(old) {
		return true, nil
	}
	topic := regexRouterReplaceFirst(t.topicFirst, old, t.topicRepl)
	if topic == "" {
		slog.Warn("Routing regex returned an empty topic name, propagating original record")
		return true, nil
	}
	if key, ok := r.Key.(*data.Struct); ok && key != nil {
		ks, kv, err := t.key(key, old, topic)
		if err != nil {
			return false, err
		}
		r.KeySchema, r.Key = ks, kv
	}
	r.Topic = topic
	env, ok := isEnvelope(r)
	if !ok || r.ValueSchema.Field(debezium.FieldBefore) == nil {
		return true, nil
	}
	vs, v, err := renameEnvelope(env, topic)
	if err != nil {
		return false, err
	}
	r.ValueSchema, r.Value = vs, v
	return true, nil
}

func (t *ByLogicalTableRouter) key(key *data.Struct, oldTopic, topic string) (*data.Schema, *data.Struct, error) {
	b := copyExcludingName(key.Schema(), true).Name(avroName(topic + debezium.KeySuffix))
	if t.unique {
		b.Field(t.keyField, data.StringSchema)
	}
	s, err := b.Build()
	if err != nil {
		return nil, nil, err
	}
	out := data.NewStruct(s)
	for _, f := range key.Schema().Fields {
		if err := out.Put(f.Name, key.Get(f.Name)); err != nil {
			return nil, nil, err
		}
	}
	if t.unique {
		id := oldTopic
		if t.keyFull != nil && t.keyFull.MatchString(oldTopic) {
			id = regexRouterReplaceFirst(t.keyFirst, oldTopic, t.keyRepl)
		}
		if err := out.Put(t.keyField, id); err != nil {
			return nil, nil, err
		}
	}
	return s, out, nil
}

// renameEnvelope renames an envelope's schema and its before/after row
// schema after the new topic.
func renameEnvelope(env *data.Struct, topic string) (*data.Schema, *data.Struct, error) {
	es := env.Schema()
	row, err := copyExcludingName(es.Field(debezium.FieldBefore).Schema, true).Name(avroName(topic + debezium.ValueSuffix)).Build()
	if err != nil {
		return nil, nil, err
	}
	eb := copyExcludingName(es, false)
	for _, f := range es.Fields {
		fs := f.Schema
		if f.Name == debezium.FieldBefore || f.Name == debezium.FieldAfter {
			fs = row
		}
		eb.Field(f.Name, fs)
	}
	ns, err := eb.Name(avroName(topic + debezium.EnvelopeSuffix)).Build()
	if err != nil {
		return nil, nil, err
	}
	out := data.NewStruct(ns)
	for _, f := range es.Fields {
		v := env.Get(f.Name)
		if (f.Name == debezium.FieldBefore || f.Name == debezium.FieldAfter) && v != nil {
			old := v.(*data.Struct)
			nv := data.NewStruct(row)
			for _, rf := range old.Schema().Fields {
				if err := nv.Put(rf.Name, old.Get(rf.Name)); err != nil {
					return nil, nil, err
				}
			}
			v = nv
		}
		if err := out.Put(f.Name, v); err != nil {
			return nil, nil, err
		}
	}
	return ns, out, nil
}

// copyExcludingName copies version, doc, parameters and optionality (and
// the fields, when fields is set) of a struct schema.
func copyExcludingName(src *data.Schema, fields bool) *data.SchemaBuilder {
	b := data.StructBuilder()
	if src.Version != nil {
		b.Version(*src.Version)
	}
	b.Doc(src.Doc)
	for k, v := range src.Parameters {
		b.Parameter(k, v)
	}
	if src.Optional {
		b.Optional()
	}
	if fields {
		for _, f := range src.Fields {
			b.Field(f.Name, f.Schema)
		}
	}
	return b
}

// avroName is Debezium's default SchemaNameAdjuster: characters not valid
// in an Avro full name become '_' (a leading digit too).
func avroName(s string) string {
	var b strings.Builder
	for i, c := range s {
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c == '.' || c >= '0' && c <= '9')
		if !ok {
			c = '_'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Close does nothing.
func (t *ByLogicalTableRouter) Close() error { return nil }
