//go:build !sluice.slim || sluice.search

package optional

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connectors/elasticsearch"
)

const searchIncluded = true

// SearchSinks returns the Elasticsearch/OpenSearch sink connector.
func SearchSinks() []connect.Plugin { return elasticsearch.Plugins() }
