package configprovider

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/sluicehq/sluice/pkg/properties"
)

// AllowedPathsParam is the allowed.paths parameter of the file and directory
// providers (KIP-993).
const AllowedPathsParam = "allowed.paths"

// File is Kafka's FileConfigProvider: ${file:/path/to/file.properties:key}
// is the value of key in a Java properties file.
//
// A reference without a path, a key the file does not hold, and a path
// outside allowed.paths (logged as a warning) resolve to nothing, so the
// reference is left as written; a file that cannot be read or parsed is an
// error naming the path.
type File struct {
	allowed allowedPaths
}

var _ Provider = (*File)(nil)

// Configure reads allowed.paths: a comma-separated list of absolute,
// existing paths under which files may be read; when unset, every path may
// be read.
func (f *File) Configure(params map[string]string) error {
	if err := checkParams(params, AllowedPathsParam); err != nil {
		return err
	}
	a, err := parseAllowedPaths(params[AllowedPathsParam])
	if err != nil {
		return err
	}
	f.allowed = a
	return nil
}

// Get returns keys (all keys when keys is nil) of the properties file path.
func (f *File) Get(_ context.Context, path string, keys []string) (map[string]string, error) {
	data := map[string]string{}
	if path == "" {
		return data, nil
	}
	file, ok := f.allowed.check(path)
	if !ok {
		slog.Warn("config provider path is not allowed", "class", FileClass, "path", path)
		return data, nil
	}
	r, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("could not read properties from file %q: %w", path, ioCause(err))
	}
	defer r.Close()
	props, err := properties.Load(r)
	if err != nil {
		// The parser's message may quote the offending line, which may hold
		// a secret: report only the file.
		return nil, fmt.Errorf("could not read properties from file %q: malformed properties", path)
	}
	if keys == nil {
		return props, nil
	}
	for _, k := range keys {
		if v, ok := props[k]; ok {
			data[k] = v
		}
	}
	return data, nil
}

// Close does nothing.
func (f *File) Close() error { return nil }

// Directory is Kafka's DirectoryConfigProvider: ${directory:/path:name} is
// the content (UTF-8) of the regular file name directly inside the directory
// /path, the shape of a Kubernetes or Docker secret mount. Keys never reach
// outside the directory (no subdirectories, no ".."); symbolic links are
// followed, as Kafka's Files.isRegularFile does.
//
// A reference without a path, a path that is not a directory or is outside
// allowed.paths (both logged as warnings), and a missing file resolve to
// nothing, so the reference is left as written; a file that cannot be read
// is an error naming the path and key.
type Directory struct {
	allowed allowedPaths
}

var _ Provider = (*Directory)(nil)

// Configure reads allowed.paths, as File.Configure does.
func (d *Directory) Configure(params map[string]string) error {
	if err := checkParams(params, AllowedPathsParam); err != nil {
		return err
	}
	a, err := parseAllowedPaths(params[AllowedPathsParam])
	if err != nil {
		return err
	}
	d.allowed = a
	return nil
}

// Get returns the contents of the regular files named by keys (all of them
// when keys is nil) in the directory path.
func (d *Directory) Get(_ context.Context, path string, keys []string) (map[string]string, error) {
	data := map[string]string{}
	if path == "" {
		return data, nil
	}
	dir, ok := d.allowed.check(path)
	if !ok {
		slog.Warn("config provider path is not allowed", "class", DirectoryClass, "path", path)
		return data, nil
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		slog.Warn("config provider path is not a directory", "class", DirectoryClass, "path", path)
		return data, nil
	}
	if keys == nil {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("could not list directory %q: %w", path, ioCause(err))
		}
		for _, e := range entries {
			keys = append(keys, e.Name())
		}
	}
	for _, k := range keys {
		if k == "" || k == "." || k == ".." || strings.ContainsRune(k, '/') || strings.ContainsRune(k, filepath.Separator) {
			continue
		}
		file := filepath.Join(dir, k)
		if st, err := os.Stat(file); err != nil || !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("could not read file %q for property %q: %w", file, k, ioCause(err))
		}
		data[k] = string(b)
	}
	return data, nil
}

// Close does nothing.
func (d *Directory) Close() error { return nil }

// allowedPaths is Kafka's AllowedPaths: nil allows every path; otherwise
// a path is allowed when, cleaned, it lies at or under one of the entries.
// The check is lexical (Java's Path.normalize and startsWith): symbolic
// links are not resolved.
type allowedPaths []string

// parseAllowedPaths reads allowed.paths. As with Java's String.split,
// trailing empty entries are dropped; every other entry must be an
// absolute path that exists.
func parseAllowedPaths(v string) (allowedPaths, error) {
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	a := allowedPaths{}
	for _, p := range parts {
		clean := filepath.Clean(p)
		if !filepath.IsAbs(clean) {
			return nil, fmt.Errorf("%w: %s: path %q is not absolute", ErrInvalidParam, AllowedPathsParam, p)
		}
		if _, err := os.Stat(clean); err != nil {
			return nil, fmt.Errorf("%w: %s: path %q does not exist", ErrInvalidParam, AllowedPathsParam, p)
		}
		a = append(a, clean)
	}
	return a, nil
}

// check is AllowedPaths.parseUntrustedPath: the path to open, and whether it
// may be opened.
func (a allowedPaths) check(path string) (string, bool) {
	if a == nil {
		return path, true
	}
	clean := filepath.Clean(path)
	for _, root := range a {
		if clean == root || strings.HasPrefix(clean, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator)) {
			return clean, true
		}
	}
	return "", false
}

// ioCause drops the path from an fs.PathError, which the caller names
// itself.
func ioCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
