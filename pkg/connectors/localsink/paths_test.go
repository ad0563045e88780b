package localsink

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/fileaccess"
	"github.com/sluicehq/sluice/pkg/storage"
)

// With allowed roots set (SLUICE_ALLOWED_PATHS), the sink writes only
// under them: local.dir or a file: store.url elsewhere fails its start.
func TestLocalSinkOnlyUnderAllowedPaths(t *testing.T) {
	root := t.TempDir()
	t.Setenv(fileaccess.EnvVar, root)
	tests := []struct {
		name  string
		props map[string]string
		ok    bool
	}{
		{"local.dir under the root", map[string]string{LocalDirConfig: filepath.Join(root, "out")}, true},
		{"local.dir outside", map[string]string{LocalDirConfig: t.TempDir()}, false},
		{"store.url outside", map[string]string{storage.StoreURLConfig: "file:///etc/sluice"}, false},
		{"store.url under the root", map[string]string{storage.StoreURLConfig: "file://" + filepath.Join(root, "o")}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPaths(tc.props)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, fileaccess.ErrNotAllowed)) {
				t.Fatalf("checkPaths: %v", err)
			}
		})
	}
}
