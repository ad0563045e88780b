//go:build sluice.slim && !sluice.search

package optional

import "github.com/sluicehq/sluice/pkg/connect"

const searchIncluded = false

// SearchSinks returns nothing: this build leaves out the search family.
func SearchSinks() []connect.Plugin { return nil }
