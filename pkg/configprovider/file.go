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
// It reads only under allowed.paths, and nothing when allowed.paths is
// unset (Kafka allows every path then; Sluice denies by default): a path
// outside is an error (*NotAllowedError) naming the path and the setting. A
// reference without a path and a key the file does not hold resolve to
// nothing, so the reference is left as written; a file that cannot be read
// or parsed is an error naming the path.
type File struct {
	allowed allowedPaths
}

var (
	_ Provider = (*File)(nil)
	_ Checker  = (*File)(nil)
)

// Configure reads allowed.paths: a comma-separated list of absolute,
// existing paths under which files may be read (KIP-993). Unset, no file
// may be read; "/" allows every file.
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
	file, err := f.allowed.check("file", path)
	if err != nil {
		return nil, err
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

// Check refuses a path outside allowed.paths (*NotAllowedError), as Get
// does, without opening the file.
func (f *File) Check(path string, _ []string) error {
	if path == "" {
		return nil
	}
	_, err := f.allowed.check("file", path)
	return err
}

// Close does nothing.
func (f *File) Close() error { return nil }

// Directory is Kafka's DirectoryConfigProvider: ${directory:/path:name} is
// the content (UTF-8) of the regular file name directly inside the directory
// /path, the shape of a Kubernetes or Docker secret mount. Keys never reach
// outside the directory (no subdirectories, no ".."); symbolic links are
// followed, as Kafka's Files.isRegularFile does, but only to files under
// allowed.paths.
//
// As File, it reads only under allowed.paths and nothing when it is unset:
// a directory (or a file it links to) outside is an error
// (*NotAllowedError). A reference without a path, a path that is not a
// directory (logged as a warning) and a missing file resolve to nothing, so
// the reference is left as written; a file that cannot be read is an error
// naming the path and key.
type Directory struct {
	allowed allowedPaths
}

var (
	_ Provider = (*Directory)(nil)
	_ Checker  = (*Directory)(nil)
)

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
	dir, err := d.allowed.check("directory", path)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		slog.Warn("config provider path is not a directory", "class", DirectoryClass, "path", path)
		return data, nil
	}
	listed := keys == nil
	if listed {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("could not list directory %q: %w", path, ioCause(err))
		}
		for _, e := range entries {
			keys = append(keys, e.Name())
		}
	}
	for _, k := range keys {
		if !directoryKey(k) {
			continue
		}
		// A symbolic link in the directory is followed only to a file
		// under allowed.paths.
		file, err := d.allowed.check("file", filepath.Join(dir, k))
		if err != nil {
			if listed {
				continue
			}
			return nil, err
		}
		if st, err := os.Stat(file); err != nil || !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("could not read file %q for property %q: %w", filepath.Join(path, k), k, ioCause(err))
		}
		data[k] = string(b)
	}
	return data, nil
}

// Check refuses, as Get does, a directory outside allowed.paths and a key
// that is a symbolic link to a file outside them (*NotAllowedError),
// without reading any file.
func (d *Directory) Check(path string, keys []string) error {
	if path == "" {
		return nil
	}
	dir, err := d.allowed.check("directory", path)
	if err != nil {
		return err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil
	}
	for _, k := range keys {
		if !directoryKey(k) {
			continue
		}
		if _, err := d.allowed.check("file", filepath.Join(dir, k)); err != nil {
			return err
		}
	}
	return nil
}

// directoryKey reports whether k names a file directly inside a directory
// (no separator, not "." or "..").
func directoryKey(k string) bool {
	return k != "" && k != "." && k != ".." && !strings.ContainsRune(k, '/') && !strings.ContainsRune(k, filepath.Separator)
}

// Close does nothing.
func (d *Directory) Close() error { return nil }

// allowedPaths is Kafka's AllowedPaths, denying by default: a path is
// allowed when allowed.paths is set and the path, made clean and with the
// symbolic links of its existing part resolved, lies at or under one of the
// (likewise resolved) entries. Resolving links, which Kafka does not, keeps
// a link under a root from leading outside it.
type allowedPaths struct {
	set   bool     // allowed.paths was given
	roots []string // clean, absolute, links resolved
}

// parseAllowedPaths reads allowed.paths. As with Java's String.split,
// trailing empty entries are dropped; every other entry must be an
// absolute path that exists.
func parseAllowedPaths(v string) (allowedPaths, error) {
	if v == "" {
		return allowedPaths{}, nil
	}
	parts := strings.Split(v, ",")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	a := allowedPaths{set: true, roots: []string{}}
	for _, p := range parts {
		clean := filepath.Clean(p)
		if !filepath.IsAbs(clean) {
			return allowedPaths{}, fmt.Errorf("%w: %s: path %q is not absolute", ErrInvalidParam, AllowedPathsParam, p)
		}
		real, err := filepath.EvalSymlinks(clean)
		if err != nil {
			return allowedPaths{}, fmt.Errorf("%w: %s: path %q does not exist", ErrInvalidParam, AllowedPathsParam, p)
		}
		a.roots = append(a.roots, real)
	}
	return a, nil
}

// check is AllowedPaths.parseUntrustedPath: the path to open (links
// resolved), or a *NotAllowedError naming what (a "file", a "directory")
// and path.
func (a allowedPaths) check(what, path string) (string, error) {
	refused := &NotAllowedError{Param: AllowedPathsParam, What: fmt.Sprintf("%s %q", what, path), Unset: !a.set}
	if !a.set {
		return "", refused
	}
	clean := filepath.Clean(path)
	if !filepath.IsAbs(clean) {
		return "", refused
	}
	real := resolveExisting(clean)
	for _, root := range a.roots {
		if within(root, real) {
			return real, nil
		}
	}
	return "", refused
}

// within reports whether path is root or lies under it; both are clean and
// absolute.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// resolveExisting resolves the symbolic links of the longest existing
// prefix of the clean, absolute path.
func resolveExisting(path string) string {
	rest := ""
	for dir := path; ; {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, rest)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return path
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
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
