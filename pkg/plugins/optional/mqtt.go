//go:build !sluice.slim || sluice.mqtt

package optional

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connectors/mqtt"
)

const mqttIncluded = true

// MQTTSources returns the MQTT source connector.
func MQTTSources() []connect.Plugin { return []connect.Plugin{mqtt.SourcePlugin()} }

// MQTTSinks returns the MQTT sink connector.
func MQTTSinks() []connect.Plugin { return []connect.Plugin{mqtt.SinkPlugin()} }
