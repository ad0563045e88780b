package filestream

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/fileaccess"
)

// With allowed roots set (SLUICE_ALLOWED_PATHS), the FileStream
// connectors and tasks refuse a file outside them, naming the variable;
// set but empty (a process outside dev mode that was given none), they
// refuse every file.
func TestFileStreamOnlyUnderAllowedPaths(t *testing.T) {
	root := t.TempDir()
	inside, outside := filepath.Join(root, "in.txt"), "/etc/passwd"
	tests := []struct {
		name  string
		roots string
		file  string
		want  string // "" allowed
	}{
		{"inside", root, inside, ""},
		{"outside", root, outside, "outside the allowed paths"},
		{"dot-dot", root, root + "/../x", "outside the allowed paths"},
		{"no roots", "", inside, "no local paths are allowed; set SLUICE_ALLOWED_PATHS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(fileaccess.EnvVar, tc.roots)
			props := map[string]string{FileConfig: tc.file, TopicConfig: "t"}
			for name, start := range map[string]func() error{
				"source connector": func() error { return NewSourceConnector().Start(context.Background(), nil, props) },
				"sink connector":   func() error { return NewSinkConnector().Start(context.Background(), nil, props) },
				"sink task": func() error {
					task := &SinkTask{}
					err := task.Start(context.Background(), nil, props)
					if err == nil {
						task.Stop()
					}
					return err
				},
			} {
				err := start()
				if tc.want == "" {
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					continue
				}
				if !errors.Is(err, fileaccess.ErrNotAllowed) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("%s: %v, want %q", name, err, tc.want)
				}
			}
		})
	}
}
