//go:build sluice.slim && !sluice.mqtt

package optional

import "github.com/sluicehq/sluice/pkg/connect"

const mqttIncluded = false

// MQTTSources returns nothing: this build leaves out the mqtt family.
func MQTTSources() []connect.Plugin { return nil }

// MQTTSinks returns nothing: this build leaves out the mqtt family.
func MQTTSinks() []connect.Plugin { return nil }
