package connect

import (
	"maps"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// ConnectorConfig returns the static configuration declaration of a connector
// plugin: the framework's keys for its kind (SourceConfig or SinkConfig)
// followed by the connector's own.
func ConnectorConfig(p Plugin) *config.Def {
	base := SourceConfig()
	if p.Kind == KindSink {
		base = SinkConfig()
	}
	return base.Merge(p.NewConnector().Config())
}

// EnrichedConfig returns a connector's declaration enriched for props, as
// Connect's ConnectorConfig.enrich: for each alias in transforms, the keys
// transforms.<alias>.type (a transformation class), .predicate, .negate and
// the transformation's own keys under the prefix; likewise for predicates.
// A source connector that uses topic creation (UsesTopicCreation) gets the
// keys of its topic creation groups too (TopicCreationConfig), as Connect's
// SourceConnectorConfig enriches its definition when the worker's
// topic.creation.enable is on.
func (r *Registry) EnrichedConfig(p Plugin, props map[string]string) *config.Def {
	def := ConnectorConfig(p)
	if p.Kind == KindSource && UsesTopicCreation(props) {
		def = def.Merge(TopicCreationConfig(props))
	}
	for _, alias := range Aliases(props[TransformsConfig]) {
		prefix := TransformsConfig + "." + alias + "."
		group := transformsGroup + ": " + alias
		def = def.Merge(r.aliasDef(KindTransformation, prefix, group, alias, props)).Rule(r.transformRule(prefix))
	}
	for _, alias := range Aliases(props[PredicatesConfig]) {
		prefix := PredicatesConfig + "." + alias + "."
		group := predicatesGroup + ": " + alias
		def = def.Merge(r.aliasDef(KindPredicate, prefix, group, alias, props))
	}
	return def
}

// Aliases parses a LIST value (transforms, predicates,
// topic.creation.groups) into unique, non-empty aliases in order.
func Aliases(v string) []string {
	var out []string
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// aliasDef declares one transformation or predicate alias's keys.
func (r *Registry) aliasDef(kind Kind, prefix, group, alias string, props map[string]string) *config.Def {
	what := "transformation"
	if kind == KindPredicate {
		what = "predicate"
	}
	typeKey := prefix + "type"
	def := config.NewDef().Define(config.Key{Name: typeKey, Type: config.Class, Default: config.NoDefault, Importance: config.High,
		Group: group, OrderInGroup: 0, Width: config.WidthLong, DisplayName: titleCase(what) + " type for " + alias,
		Doc: "Class for the '" + alias + "' " + what + ".",
		Validator: config.LambdaValidator(func(name string, value any) error {
			class, _ := value.(string)
			if _, err := r.Lookup(kind, class); err != nil {
				return config.InvalidValue(name, class, "Class "+class+" could not be found.")
			}
			return nil
		}, "valid configs for "+alias+" "+what)})
	order := 1
	if kind == KindTransformation {
		def.Define(config.Key{Name: prefix + "predicate", Type: config.String, Default: "", Importance: config.Medium,
			Group: group, OrderInGroup: order, Width: config.WidthMedium, DisplayName: "predicate",
			Doc: "The alias of a predicate used to determine whether to apply this transformation; one listed in " +
				PredicatesConfig + "."})
		def.Define(config.Key{Name: prefix + "negate", Type: config.Boolean, Default: false, Importance: config.Medium,
			Group: group, OrderInGroup: order + 1, Width: config.WidthShort, DisplayName: "negate",
			Doc: "Whether the configured predicate should be negated."})
		order += 2
	}
	p, err := r.Lookup(kind, strings.TrimSpace(props[typeKey]))
	if err != nil {
		return def // the type key reports the problem
	}
	var own *config.Def
	if kind == KindTransformation {
		own = p.NewTransformation().Config()
	} else {
		own = p.NewPredicate().Config()
	}
	for _, k := range own.Keys() {
		if kind == KindTransformation && (k.Name == "predicate" || k.Name == "negate") {
			continue // the implicit keys mask a transformation's own, as in Connect
		}
		k.Name, k.Group, k.OrderInGroup = prefix+k.Name, group, order
		order++
		def.Define(k)
	}
	return def
}

// transformRule checks a transformation alias's keys against the others:
// negate needs a predicate, and the predicate must be one of predicates
// (Connect's ConnectorConfig.validate).
func (r *Registry) transformRule(prefix string) config.Rule {
	typeKey, pred, neg := prefix+"type", prefix+"predicate", prefix+"negate"
	return func(v *config.Values) []config.Problem {
		var out []config.Problem
		ref := v.String(pred)
		class := v.Class(typeKey)
		if _, err := r.Lookup(KindTransformation, class); err == nil && v.Given(neg) && ref == "" {
			out = append(out, config.Problem{Key: typeKey, Message: config.InvalidValue(typeKey, class,
				"Config '"+neg+"' was provided but there is no config '"+pred+"' defining a predicate to be negated.").Error()})
		}
		if ref != "" && !slices.Contains(v.List(PredicatesConfig), ref) {
			out = append(out, config.Problem{Key: pred, Message: config.InvalidValue(pred, ref,
				"Predicate '"+ref+"' is not defined: add it to '"+PredicatesConfig+"' and set '"+PredicatesConfig+"."+ref+".type'.").Error()})
		}
		return out
	}
}

func titleCase(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// ValidateConnector validates a connector configuration as Connect's
// AbstractHerder.validateConnectorConfig does: it finds the plugin named by
// connector.class, checks every declared key (including each transformation's
// and predicate's) and the Def's cross-key rules (config.Rule; for sinks,
// the topics rule among them). It returns one entry per key with every
// problem (never stopping at the first) in Connect's ConfigInfos shape, and
// the plugin when it was found.
func (r *Registry) ValidateConnector(props map[string]string) (Plugin, config.Infos, bool) {
	class := props[ConnectorClassConfig]
	plugin, err := r.Connector(class)
	if err != nil {
		infos := CommonConfig().Infos(class, props)
		// A missing class is the definition's "Missing required
		// configuration" error already; an empty one is not a class either.
		if _, set := props[ConnectorClassConfig]; set {
			addProblems(&infos, map[string][]string{ConnectorClassConfig: {err.Error()}})
		}
		return Plugin{}, infos, false
	}
	return plugin, r.EnrichedConfig(plugin, props).Infos(plugin.Class, props), true
}

// addProblems adds error messages to the keys' entries (or a new entry for
// an undeclared key) and recounts the errors.
func addProblems(infos *config.Infos, problems map[string][]string) {
	for _, key := range slices.Sorted(maps.Keys(problems)) {
		i := slices.IndexFunc(infos.Configs, func(c config.Info) bool { return c.Definition.Name == key })
		if i < 0 {
			infos.Configs = append(infos.Configs, config.Info{
				Definition: config.KeyInfo{Name: key},
				Value:      config.ValueInfo{Name: key, Errors: []string{}, RecommendedValues: []string{}, Visible: true},
			})
			i = len(infos.Configs) - 1
		}
		for _, msg := range problems[key] {
			if !slices.Contains(infos.Configs[i].Value.Errors, msg) {
				infos.Configs[i].Value.Errors = append(infos.Configs[i].Value.Errors, msg)
			}
		}
	}
	infos.ErrorCount = 0
	for _, c := range infos.Configs {
		infos.ErrorCount += len(c.Value.Errors)
	}
}

// ConfigError turns validation results with errors into the error Connect
// returns when it rejects a connector configuration ("Connector configuration
// is invalid and contains the following N error(s): ..."); nil when there are
// none.
func ConfigError(infos config.Infos) error {
	if infos.ErrorCount == 0 {
		return nil
	}
	var e config.ValidationError
	for _, c := range infos.Configs {
		for _, msg := range c.Value.Errors {
			e.Problems = append(e.Problems, config.Problem{Key: c.Definition.Name, Message: msg})
		}
	}
	return &e
}
