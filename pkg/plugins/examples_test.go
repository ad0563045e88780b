package plugins

import (
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/properties"
)

// The CDC examples are valid connector configurations for the built-in
// plugins, transforms included.
func TestCDCExamplesValidate(t *testing.T) {
	for _, name := range []string{"cdc-postgres.properties", "cdc-postgres-s3-parquet.properties", "cdc-mariadb.properties"} {
		t.Run(name, func(t *testing.T) {
			props, err := properties.LoadFile(filepath.Join("..", "..", "examples", name))
			if err != nil {
				t.Fatal(err)
			}
			_, infos, ok := Registry().ValidateConnector(props)
			if !ok || infos.ErrorCount > 0 {
				t.Fatal(connect.ConfigError(infos))
			}
		})
	}
}
