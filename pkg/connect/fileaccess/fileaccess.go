// Package fileaccess confines the connectors that read or write the local
// file system (the FileStream connectors, the local storage sink) to
// allowed roots, as Kafka's allowed.paths (KIP-993) confines its file
// config providers.
//
// The roots come from the SLUICE_ALLOWED_PATHS environment variable, a
// comma-separated list of directories. Sluice's processes set it when
// they start (the coordinator's dev mode defaults it to its data folder
// and working directory; elsewhere a process that finds it unset sets it
// empty, which allows no path). When it is unset, as in a library or a
// unit test, every path is allowed.
package fileaccess

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvVar names the allowed roots.
const EnvVar = "SLUICE_ALLOWED_PATHS"

// ErrNotAllowed reports a path outside the allowed roots.
var ErrNotAllowed = errors.New("path not allowed")

// Roots returns the allowed roots and whether any restriction applies.
func Roots() ([]string, bool) {
	v, set := os.LookupEnv(EnvVar)
	if !set {
		return nil, false
	}
	var roots []string
	for _, r := range strings.Split(v, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roots = append(roots, r)
		}
	}
	return roots, true
}

// Check returns an error wrapping ErrNotAllowed unless path (after making
// it absolute and resolving symbolic links of its existing part) is one of
// the allowed roots or under one. what names the setting, for the message.
func Check(what, path string) error {
	roots, restricted := Roots()
	if !restricted {
		return nil
	}
	if len(roots) == 0 {
		return fmt.Errorf("%w: %s %q: no local paths are allowed; set %s to the directories connectors may read and write (comma-separated)",
			ErrNotAllowed, what, path, EnvVar)
	}
	p, err := resolve(path)
	if err != nil {
		return fmt.Errorf("%w: %s %q: %w", ErrNotAllowed, what, path, err)
	}
	for _, root := range roots {
		r, err := resolve(root)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(r, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s %q is outside the allowed paths %s (%s)", ErrNotAllowed, what, path, strings.Join(roots, ","), EnvVar)
}

// resolve makes path absolute and resolves the symbolic links of its
// longest existing prefix, so that a link cannot lead outside a root.
func resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	for dir := abs; ; {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, rest), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
}
