package transforms

import (
	"log/slog"
	"maps"
	"slices"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// ReplaceField is Connect's ReplaceField$Key and ReplaceField$Value: it
// filters (include, exclude) and renames the fields of a Struct or a map.
// exclude takes precedence over include; an empty include keeps every
// field. The deprecated keys whitelist and blacklist are accepted for
// include and exclude, as Connect 3.x accepts them. A null key or value
// passes through unchanged. Configure before Apply; use from one goroutine
// at a time.
type ReplaceField struct {
	target target

	exclude, include       map[string]bool
	renames, reverse       map[string]string
	replaceNullWithDefault bool
	cache                  schemaCache
}

const replaceFieldPurpose = "field replacement"

var replaceFieldDef = defineReplaceNullWithDefault(config.NewDef().
	Define(config.Key{Name: "exclude", Type: config.List, Default: []string{}, Importance: config.Medium,
		Doc: "Fields to exclude. This takes precedence over the fields to include."}).
	Define(config.Key{Name: "blacklist", Type: config.List, Importance: config.Low,
		Doc: "Deprecated. Use exclude instead."}).
	Define(config.Key{Name: "include", Type: config.List, Default: []string{}, Importance: config.Medium,
		Doc: "Fields to include. If specified, only these fields will be used."}).
	Define(config.Key{Name: "whitelist", Type: config.List, Importance: config.Low,
		Doc: "Deprecated. Use include instead."}).
	Define(config.Key{Name: "renames", Type: config.List, Default: []string{}, Importance: config.Medium,
		Doc: "Field rename mappings.",
		Validator: config.LambdaValidator(func(name string, value any) error {
			l, _ := value.([]string)
			_, err := parseRenameMappings(l)
			return err
		}, "list of colon-delimited pairs, e.g. <code>foo:bar,abc:xyz</code>")}))

// parseRenameMappings is Connect's ReplaceField.parseRenameMappings.
func parseRenameMappings(mappings []string) (map[string]string, error) {
	m := make(map[string]string, len(mappings))
	for _, mapping := range mappings {
		parts := javaSplit(mapping, ":")
		if len(parts) != 2 {
			return nil, config.InvalidValue("renames", mappings, "Invalid rename mapping: "+mapping)
		}
		m[parts[0]] = parts[1]
	}
	return m, nil
}

// translateDeprecated is Connect's ConfigUtils.translateDeprecatedConfigs
// for one key and its deprecated alias: the alias is used only when the
// key is absent, and is removed either way.
func translateDeprecated(props map[string]string, key, alias string) map[string]string {
	aliasValue, hasAlias := props[alias]
	if !hasAlias {
		return props
	}
	out := make(map[string]string, len(props))
	for k, v := range props {
		if k != alias {
			out[k] = v
		}
	}
	if _, ok := props[key]; ok {
		slog.Error(key + " was configured, as well as the deprecated alias(es) " + alias + ".  Using the value of " + key)
		return out
	}
	slog.Warn("Configuration key " + alias + " is deprecated and may be removed in the future.  Please update your configuration to use " + key + " instead.")
	out[key] = aliasValue
	return out
}

func newReplaceField(t target) connect.Transformation { return &ReplaceField{target: t} }

// Config returns ReplaceField's keys.
func (*ReplaceField) Config() *config.Def { return replaceFieldDef }

// Configure reads the keys.
func (x *ReplaceField) Configure(props map[string]string) error {
	props = translateDeprecated(translateDeprecated(props, "include", "whitelist"), "exclude", "blacklist")
	vals, err := replaceFieldDef.Parse(props)
	if err != nil {
		return err
	}
	x.exclude = setOf(vals.List("exclude"))
	x.include = setOf(vals.List("include"))
	if x.renames, err = parseRenameMappings(vals.List("renames")); err != nil {
		return err
	}
	x.reverse = make(map[string]string, len(x.renames))
	for k, v := range x.renames {
		x.reverse[v] = k
	}
	x.replaceNullWithDefault = vals.Bool(replaceNullWithDefaultConfig)
	x.cache = schemaCache{}
	return nil
}

func setOf(items []string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

func (x *ReplaceField) filter(name string) bool {
	return !x.exclude[name] && (len(x.include) == 0 || x.include[name])
}

func (x *ReplaceField) renamed(name string) string {
	if n, ok := x.renames[name]; ok {
		return n
	}
	return name
}

func (x *ReplaceField) reverseRenamed(name string) string {
	if n, ok := x.reverse[name]; ok {
		return n
	}
	return name
}

// Apply filters and renames the fields.
func (x *ReplaceField) Apply(r *connect.TransformRecord) (bool, error) {
	schema, v := x.target.get(r)
	if v == nil {
		return true, nil
	}
	if schema == nil {
		m, err := requireMap(v, replaceFieldPurpose)
		if err != nil {
			return true, err
		}
		updated := make(map[string]any, len(m))
		// Sorted, so that two fields renamed to one name resolve the same
		// way every time (Connect leaves it to HashMap order).
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if x.filter(k) {
				updated[x.renamed(k)] = m[k]
			}
		}
		x.target.set(r, nil, updated)
		return true, nil
	}
	value, err := requireStruct(v, replaceFieldPurpose)
	if err != nil {
		return true, err
	}
	updatedSchema := x.cache.get(value.Schema())
	if updatedSchema == nil {
		b := copySchemaBasics(value.Schema(), data.StructBuilder())
		for _, f := range value.Schema().Fields {
			if x.filter(f.Name) {
				b.Field(x.renamed(f.Name), f.Schema)
			}
		}
		if updatedSchema, err = b.Build(); err != nil {
			return true, err
		}
		x.cache.put(value.Schema(), updatedSchema)
	}
	updated := data.NewStruct(updatedSchema)
	for _, f := range updatedSchema.Fields {
		if err := updated.Put(f.Name, structField(value, x.reverseRenamed(f.Name), x.replaceNullWithDefault)); err != nil {
			return true, err
		}
	}
	x.target.set(r, updatedSchema, updated)
	return true, nil
}

// Close releases the schema cache.
func (x *ReplaceField) Close() error {
	x.cache = schemaCache{}
	return nil
}
