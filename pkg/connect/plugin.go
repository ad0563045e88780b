package connect

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Kind is what a plugin provides.
type Kind string

// The plugin kinds, named as Connect's REST API names them.
const (
	KindSource          Kind = "source"
	KindSink            Kind = "sink"
	KindConverter       Kind = "converter"
	KindHeaderConverter Kind = "header_converter"
	KindTransformation  Kind = "transformation"
	KindPredicate       Kind = "predicate"
)

// Plugin describes one plugin: its Connect-style class name, aliases and
// constructor. Plugins are plain values listed by a registry function; no
// plugin registers itself.
type Plugin struct {
	// Class is the fully qualified class name users write in
	// connector.class, for example
	// "org.apache.kafka.connect.file.FileStreamSourceConnector".
	Class string
	// Aliases are further names accepted for the plugin (another vendor's
	// class name, for example). The simple name and the simple name without
	// "Connector" are aliases without being listed.
	Aliases []string
	Kind    Kind
	Version string

	// NewConnector constructs the connector (KindSource, KindSink).
	NewConnector func() Connector
	// NewSourceTask constructs a source task (KindSource).
	NewSourceTask func() SourceTask
	// NewSinkTask constructs a sink task (KindSink).
	NewSinkTask func() SinkTask
	// NewConverter constructs a converter (KindConverter).
	NewConverter func() Converter
	// NewHeaderConverter constructs a header converter (KindHeaderConverter,
	// or a KindConverter that converts headers too).
	NewHeaderConverter func() HeaderConverter
	// NewTransformation constructs a transformation (KindTransformation).
	NewTransformation func() Transformation
	// NewPredicate constructs a predicate (KindPredicate).
	NewPredicate func() Predicate
}

// SimpleName is the class name without its package ("FileStreamSourceConnector").
func (p Plugin) SimpleName() string { return p.Class[strings.LastIndexByte(p.Class, '.')+1:] }

// names returns every name the plugin answers to: its class, its aliases,
// its simple name and, for connectors, the simple name without "Connector"
// (Connect's PluginUtils.prunedName).
func (p Plugin) names() []string {
	names := append([]string{p.Class}, p.Aliases...)
	for _, n := range append([]string{p.Class}, p.Aliases...) {
		simple := n[strings.LastIndexByte(n, '.')+1:]
		names = append(names, simple)
		for _, suffix := range []string{"Connector", "Converter"} {
			if pruned, ok := strings.CutSuffix(simple, suffix); ok && pruned != "" {
				names = append(names, pruned)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Registry finds plugins by class name or alias. An alias that would name
// two plugins of the same kind names neither, as in Connect; the full class
// name always works. A Registry is immutable and safe for concurrent use.
type Registry struct {
	plugins []Plugin
	byName  map[Kind]map[string]int
}

// NewRegistry indexes plugins. Two plugins with the same class and kind are
// an error.
func NewRegistry(plugins ...Plugin) (*Registry, error) {
	r := &Registry{plugins: plugins, byName: map[Kind]map[string]int{}}
	ambiguous := map[Kind]map[string]bool{}
	for i, p := range plugins {
		if err := p.check(); err != nil {
			return nil, err
		}
		for _, kind := range p.kinds() {
			if r.byName[kind] == nil {
				r.byName[kind], ambiguous[kind] = map[string]int{}, map[string]bool{}
			}
			if j, dup := r.byName[kind][p.Class]; dup && plugins[j].Class == p.Class {
				return nil, fmt.Errorf("plugin %s is listed twice", p.Class)
			}
			for _, n := range p.names() {
				if j, taken := r.byName[kind][n]; taken && j != i {
					if plugins[j].Class == n {
						continue // a full class name beats another plugin's alias
					}
					ambiguous[kind][n] = true
				}
				if n == p.Class || !ambiguous[kind][n] {
					r.byName[kind][n] = i
				}
			}
		}
	}
	for kind, names := range ambiguous {
		for n := range names {
			if r.plugins[r.byName[kind][n]].Class != n {
				delete(r.byName[kind], n)
			}
		}
	}
	return r, nil
}

func (p Plugin) check() error {
	ok := true
	switch p.Kind {
	case KindSource:
		ok = p.NewConnector != nil && p.NewSourceTask != nil
	case KindSink:
		ok = p.NewConnector != nil && p.NewSinkTask != nil
	case KindConverter:
		ok = p.NewConverter != nil
	case KindHeaderConverter:
		ok = p.NewHeaderConverter != nil
	case KindTransformation:
		ok = p.NewTransformation != nil
	case KindPredicate:
		ok = p.NewPredicate != nil
	default:
		return fmt.Errorf("plugin %s has unknown kind %q", p.Class, p.Kind)
	}
	if !ok || p.Class == "" {
		return fmt.Errorf("plugin %q of kind %s lacks its class name or constructor", p.Class, p.Kind)
	}
	return nil
}

// kinds lists the kinds a plugin can be looked up as: a converter that also
// converts headers serves as a header converter (Connect's StringConverter,
// JsonConverter).
func (p Plugin) kinds() []Kind {
	if p.Kind == KindConverter && p.NewHeaderConverter != nil {
		return []Kind{KindConverter, KindHeaderConverter}
	}
	return []Kind{p.Kind}
}

// Lookup finds the plugin of kind (KindSource and KindSink are both searched
// for "connector", which is what kind "" means) named name.
func (r *Registry) Lookup(kind Kind, name string) (Plugin, error) {
	kinds := []Kind{kind}
	if kind == "" {
		kinds = []Kind{KindSource, KindSink}
	}
	for _, k := range kinds {
		if i, ok := r.byName[k][name]; ok {
			return r.plugins[i], nil
		}
	}
	what := "connector"
	if kind != "" {
		what = string(kind)
	}
	return Plugin{}, fmt.Errorf("%w: failed to find any class that implements %s and which name matches %s", ErrUnknownPlugin, what, name)
}

// Connector finds a source or sink connector plugin by class name or alias.
func (r *Registry) Connector(name string) (Plugin, error) { return r.Lookup("", name) }

// Plugins lists the plugins of the given kinds (all when none is given),
// sorted by class name.
func (r *Registry) Plugins(kinds ...Kind) []Plugin {
	var out []Plugin
	for _, p := range r.plugins {
		if len(kinds) == 0 || slices.Contains(kinds, p.Kind) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Class < out[j].Class })
	return out
}
