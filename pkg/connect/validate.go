package connect

import (
	"maps"
	"slices"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// ConnectorDef returns the full configuration declaration of a connector
// plugin: the framework's common keys (and sink keys for sinks) followed by
// the connector's own.
func ConnectorDef(p Plugin) *config.Def {
	base := CommonConfig()
	if p.Kind == KindSink {
		base = SinkConfig()
	}
	return base.Merge(p.NewConnector().Config())
}

// ValidateConnector validates a connector configuration as Connect's
// AbstractHerder.validateConnectorConfig does: it finds the plugin named by
// connector.class, checks every declared key, then the connector's own
// cross-key checks and, for sinks, the topics rules. It returns one entry per
// key with every problem (never stopping at the first) in Connect's ConfigInfos
// shape, and the plugin when it was found.
func (r *Registry) ValidateConnector(props map[string]string) (Plugin, config.Infos, bool) {
	class := props[ConnectorClassConfig]
	plugin, err := r.Connector(class)
	if err != nil {
		infos := CommonConfig().Infos(class, props)
		if class != "" {
			addProblems(&infos, map[string][]string{ConnectorClassConfig: {err.Error()}})
		}
		return Plugin{}, infos, false
	}
	infos := ConnectorDef(plugin).Infos(plugin.Class, props)
	if plugin.Kind == KindSink {
		addProblems(&infos, ValidateSinkTopics(props))
	}
	if v, ok := plugin.NewConnector().(ConfigValidator); ok {
		addProblems(&infos, v.ValidateConfig(props))
	}
	return plugin, infos, true
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
