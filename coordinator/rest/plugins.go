package rest

import (
	"net/http"
	"strings"

	"github.com/sluicehq/sluice/pkg/connect/config"
)

// listPlugins serves GET /connector-plugins[?connectorsOnly=false]; only
// source and sink connectors unless connectorsOnly is false (default true).
func (s *server) listPlugins(w http.ResponseWriter, r *http.Request, _ []byte) error {
	plugins := s.herder.ConnectorPlugins(r.Context(), queryBool(r.URL.Query(), "connectorsOnly", true))
	if plugins == nil {
		plugins = []PluginInfo{}
	}
	return writeJSON(w, http.StatusOK, plugins)
}

// pluginConfig serves GET /connector-plugins/{plugin}/config.
func (s *server) pluginConfig(w http.ResponseWriter, r *http.Request, _ []byte) error {
	keys, err := s.herder.PluginConfig(r.Context(), r.PathValue("plugin"))
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []config.KeyInfo{}
	}
	return writeJSON(w, http.StatusOK, keys)
}

// validateConfig serves PUT /connector-plugins/{plugin}/config/validate: 200
// with ConfigInfos, even when the configuration has errors.
func (s *server) validateConfig(w http.ResponseWriter, r *http.Request, body []byte) error {
	plugin := r.PathValue("plugin")
	cfg, err := decodeStrings(body)
	if err != nil {
		return err
	}
	if included, ok := cfg["connector.class"]; ok &&
		!strings.HasSuffix(normalizedPluginName(included), normalizedPluginName(plugin)) {
		return &BadRequestError{Message: "Included connector type " + included +
			" does not match request type " + plugin}
	}
	infos, err := s.herder.ValidateConnectorConfig(r.Context(), plugin, cfg)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, infos)
}

// normalizedPluginName strips a trailing "Connector" so that full class
// names, simple names and aliases compare, as Connect's does.
func normalizedPluginName(name string) string {
	const suffix = "Connector"
	if strings.HasSuffix(name, suffix) && len(name) > len(suffix) {
		return name[:len(name)-len(suffix)]
	}
	return name
}
