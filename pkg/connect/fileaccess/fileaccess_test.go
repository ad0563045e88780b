package fileaccess

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		env   *string
		path  string
		allow bool
		msg   string
	}{
		{name: "unset allows all", path: "/etc/passwd", allow: true},
		{name: "empty allows nothing", env: ptr(""), path: filepath.Join(root, "a"), msg: "no local paths are allowed"},
		{name: "under a root", env: ptr(root), path: filepath.Join(root, "sub", "new.txt"), allow: true},
		{name: "the root itself", env: ptr(root), path: root, allow: true},
		{name: "outside", env: ptr(root), path: "/etc/passwd", msg: "outside the allowed paths"},
		{name: "dot-dot out", env: ptr(root), path: filepath.Join(root, "..", "x"), msg: "outside"},
		{name: "a prefix is not a parent", env: ptr(root), path: root + "-other/x", msg: "outside"},
		{name: "symlink out", env: ptr(root), path: filepath.Join(root, "escape", "secret"), msg: "outside"},
		{name: "second root", env: ptr("/nonexistent," + outside), path: filepath.Join(outside, "f"), allow: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env == nil {
				os.Unsetenv(EnvVar) // t.Setenv below restores per test
			} else {
				t.Setenv(EnvVar, *tc.env)
			}
			err := Check("file", tc.path)
			if tc.allow != (err == nil) {
				t.Fatalf("Check(%q) = %v", tc.path, err)
			}
			if err != nil && (!errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), tc.msg)) {
				t.Fatalf("error %v, want %q", err, tc.msg)
			}
		})
	}
}

func ptr(s string) *string { return &s }
