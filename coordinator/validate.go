package coordinator

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

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
	return ValidateReferences(plugins, providers, nil, props)
}

// ReferenceChecker finds the config provider references that the worker's
// allow settings refuse, without looking any of them up
// (configprovider.Resolver.Check).
type ReferenceChecker interface {
	Check(props map[string]string) []*configprovider.Refusal
}

// ValidateReferences is Validate that also reports each reference checker
// refuses (an environment variable outside allowlist.pattern, a file
// outside allowed.paths, a secret outside allowed.prefixes) as an error on
// its key, naming the reference and the reason, never a value: a
// configuration is refused when it is submitted, not when its task runs.
// A nil checker checks nothing.
func ValidateReferences(plugins *connect.Registry, providers []string, checker ReferenceChecker, props map[string]string) (connect.Plugin, config.Infos, bool) {
	plugin, infos, found := plugins.ValidateConnector(props)
	refs := configprovider.References(props)
	if len(refs) == 0 {
		return plugin, infos, found
	}
	withRefs := map[string]bool{}
	problems := map[string][]string{}
	for _, r := range refs {
		withRefs[r.ConfigKey] = true
		if !slices.Contains(providers, r.Provider) {
			problems[r.ConfigKey] = append(problems[r.ConfigKey], config.InvalidValue(r.ConfigKey, r.Text,
				"config provider '"+r.Provider+"' is not configured (config.providers in the worker properties)").Error())
		}
	}
	if checker != nil {
		for _, r := range checker.Check(props) {
			problems[r.ConfigKey] = append(problems[r.ConfigKey], config.InvalidValue(r.ConfigKey, r.Text, r.Err.Error()).Error())
		}
	}
	// The value of a key holding a reference is checked where the task
	// runs: drop its other errors, keep the references' own.
	for i := range infos.Configs {
		if withRefs[infos.Configs[i].Definition.Name] {
			infos.Configs[i].Value.Errors = []string{}
		}
	}
	connect.AddProblems(&infos, problems)
	return plugin, infos, found
}

// tasksMaxError says why props' tasks.max is above max; "" when it is not
// (or is not a number, which the connector's own validation reports).
func tasksMaxError(props map[string]string, max int) string {
	v := strings.TrimSpace(props[connect.TasksMaxConfig])
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= int64(max) {
		return ""
	}
	return config.InvalidValue(connect.TasksMaxConfig, v,
		fmt.Sprintf("at most %d tasks are allowed (SLUICE_MAX_TASKS)", max)).Error()
}

// recoverPlugin turns a panic of a plugin's code run for a REST request
// (deferred) into *errp, logged with its stack: the request is answered
// 500 with the panic's message, as Connect's ConnectExceptionMapper
// answers an exception a plugin threw, and the coordinator goes on.
func (c *Coordinator) recoverPlugin(what string, errp *error) {
	p := recover()
	if p == nil {
		return
	}
	c.log.Error(what+" panicked", "panic", p, "stack", string(debug.Stack()))
	*errp = fmt.Errorf("%s panicked: %v", what, p)
}

// validate is Validate with this coordinator's config providers and its
// limits (tasks.max at most MaxTasks). A panic of the connector's code
// (its Config, a validator of its keys) is returned as err.
func (c *Coordinator) validate(props map[string]string) (plugin connect.Plugin, infos config.Infos, found bool, err error) {
	defer c.recoverPlugin("validating the configuration of "+props[connect.ConnectorClassConfig], &err)
	plugin, infos, found = ValidateReferences(c.d.Plugins, c.cfg.ConfigProviders, c.d.Providers, props)
	if found {
		// exactly.once.support and transaction.boundary against the
		// worker's setting and the connector's answers (KIP-618).
		if p := connect.ExactlyOnceProblems(plugin, props, c.cfg.ExactlyOnce.Enabled()); len(p) > 0 {
			connect.AddProblems(&infos, p)
		}
	}
	msg := tasksMaxError(props, c.cfg.MaxTasks)
	if msg == "" {
		return plugin, infos, found, nil
	}
	for i := range infos.Configs {
		if infos.Configs[i].Definition.Name == connect.TasksMaxConfig {
			infos.Configs[i].Value.Errors = append(infos.Configs[i].Value.Errors, msg)
			infos.ErrorCount++
			return plugin, infos, found, nil
		}
	}
	// No tasks.max definition (an unknown class): the class error is
	// reported already.
	return plugin, infos, found, nil
}
