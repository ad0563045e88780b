package coordinator

import (
	"slices"

	"github.com/sluicehq/sluice/pkg/configprovider"
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
)

// Validate validates a connector configuration (connect.Registry's
// ValidateConnector) with config provider references in mind: a reference
// to a provider not listed in providers is an error on its key; a value
// that references a configured provider is resolved only where the task
// runs, so its type and validators are checked then, not here.
func Validate(plugins *connect.Registry, providers []string, props map[string]string) (connect.Plugin, config.Infos, bool) {
	plugin, infos, found := plugins.ValidateConnector(props)
	refs := configprovider.References(props)
	if len(refs) == 0 {
		return plugin, infos, found
	}
	byKey := map[string][]configprovider.Reference{}
	for _, r := range refs {
		byKey[r.ConfigKey] = append(byKey[r.ConfigKey], r)
	}
	for i := range infos.Configs {
		v := &infos.Configs[i].Value
		rs, ok := byKey[infos.Configs[i].Definition.Name]
		if !ok {
			continue
		}
		v.Errors = []string{}
		for _, r := range rs {
			if !slices.Contains(providers, r.Provider) {
				v.Errors = append(v.Errors, config.InvalidValue(r.ConfigKey, r.Text,
					"config provider '"+r.Provider+"' is not configured (config.providers in the worker properties)").Error())
			}
		}
	}
	infos.ErrorCount = 0
	for _, c := range infos.Configs {
		infos.ErrorCount += len(c.Value.Errors)
	}
	return plugin, infos, found
}
