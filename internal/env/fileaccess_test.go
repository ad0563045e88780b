package env

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/fileaccess"
)

// FileAccess.Apply sets the roots the FileStream connectors and the local
// sink may use: the configured ones (SLUICE_ALLOWED_PATHS); else the
// defaults dev mode passes (its data folder and working directory, made
// absolute); else none, so that every path is refused.
func TestFileAccessApply(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		allowed  []string
		defaults []string
		want     []string
	}{
		{name: "configured roots win", allowed: []string{"/srv/in", "/srv/out"}, defaults: []string{"data", "."}, want: []string{"/srv/in", "/srv/out"}},
		{name: "dev mode defaults, made absolute", defaults: []string{"data", "."}, want: []string{filepath.Join(wd, "data"), wd}},
		{name: "dev mode without a data folder", defaults: []string{"", "."}, want: []string{wd}},
		{name: "outside dev mode nothing", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(fileaccess.EnvVar, "stale")
			if err := (FileAccess{AllowedPaths: tt.allowed}).Apply(tt.defaults...); err != nil {
				t.Fatal(err)
			}
			roots, restricted := fileaccess.Roots()
			if !restricted || !slices.Equal(roots, tt.want) {
				t.Fatalf("roots %q (restricted %v), want %q", roots, restricted, tt.want)
			}
			if len(tt.want) == 0 {
				if err := fileaccess.Check("file", filepath.Join(wd, "x.txt")); err == nil {
					t.Fatal("a path was allowed with no roots")
				}
			}
		})
	}
}
