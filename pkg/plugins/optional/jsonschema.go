//go:build !sluice.slim || sluice.jsonschema

package optional

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter/jsonschema"
)

const jsonschemaIncluded = true

// JSONSchema returns the Schema Registry's JSON Schema converter.
func JSONSchema() []connect.Plugin { return jsonschema.Plugins() }
