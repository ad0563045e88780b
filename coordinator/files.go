package coordinator

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sluicehq/sluice/pkg/properties"
)

// LoadConnectorFile reads a connector configuration from a Java properties
// file (as Connect's standalone mode takes) or a JSON file holding either
// the body of Connect's POST /connectors ({"name": ..., "config": {...}}) or
// a flat object of properties.
func LoadConnectorFile(path string) (map[string]string, error) {
	if !strings.EqualFold(filepath.Ext(path), ".json") {
		return properties.LoadFile(path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var body struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
	}
	if err := json.Unmarshal(b, &body); err == nil && body.Config != nil {
		if body.Name != "" {
			if n, ok := body.Config["name"]; ok && n != body.Name {
				return nil, fmt.Errorf("%s: connector name %q does not match config name %q", path, body.Name, n)
			}
			body.Config["name"] = body.Name
		}
		return body.Config, nil
	}
	var flat map[string]string
	if err := json.Unmarshal(b, &flat); err != nil {
		return nil, fmt.Errorf("%s: want {\"name\": ..., \"config\": {...}} or an object of string properties: %w", path, err)
	}
	return flat, nil
}
