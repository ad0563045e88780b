//go:build !sluice.slim || sluice.protobuf

package optional

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/converter/protobuf"
)

const protobufIncluded = true

// Protobuf returns the Schema Registry's Protobuf converter.
func Protobuf() []connect.Plugin { return protobuf.Plugins() }
