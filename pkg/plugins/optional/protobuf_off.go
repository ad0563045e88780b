//go:build sluice.slim && !sluice.protobuf

package optional

import "github.com/sluicehq/sluice/pkg/connect"

const protobufIncluded = false

// Protobuf returns nothing: this build leaves out the protobuf family.
func Protobuf() []connect.Plugin { return nil }
