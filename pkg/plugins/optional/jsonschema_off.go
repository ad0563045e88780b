//go:build sluice.slim && !sluice.jsonschema

package optional

import "github.com/sluicehq/sluice/pkg/connect"

const jsonschemaIncluded = false

// JSONSchema returns nothing: this build leaves out the jsonschema family.
func JSONSchema() []connect.Plugin { return nil }
