// Package localstore stores objects as files under a root directory, for
// dev mode and standalone use (store.url=file:///path).
//
// An object is written to a temporary file in its target directory
// (".<name>.tmp-<random>"), synced, renamed over the target (an atomic
// replace on POSIX filesystems) and the directory synced, so that a crash
// leaves either the old object or the new one, never a mix, and at worst a
// temporary file that List ignores. Nothing is buffered in memory.
package localstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/pkg/storage"
)

var (
	_ storage.Store        = (*Store)(nil)
	_ storage.ObjectWriter = (*Writer)(nil)
)

// ErrClosed is returned by a Writer used after Commit or Abort.
var ErrClosed = errors.New("localstore: object writer already committed or aborted")

// tmpMarker is in every temporary file's name, which also starts with ".".
const tmpMarker = ".tmp-"

// Store is a directory. It is safe for concurrent use; two writers of the
// same key both succeed and the last Commit wins.
type Store struct {
	root string
}

// New returns a Store rooted at dir, creating dir if needed.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("localstore: empty root directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	return &Store{root: abs}, nil
}

// Open returns a Store for a file URL: file:///abs/path,
// file://localhost/abs/path, or file:relative/path.
func Open(rawURL string) (*Store, error) {
	dir, err := PathFromURL(rawURL)
	if err != nil {
		return nil, err
	}
	return New(dir)
}

// PathFromURL returns the directory a file URL names.
func PathFromURL(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("localstore: %w", err)
	}
	if u.Scheme != "file" {
		return "", fmt.Errorf("localstore: %q is not a file:// URL", rawURL)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("localstore: %q names host %q; only local files are supported", rawURL, u.Host)
	}
	dir := u.Path
	if u.Opaque != "" {
		dir = u.Opaque
	}
	if dir == "" {
		return "", fmt.Errorf("localstore: %q names no directory", rawURL)
	}
	return filepath.FromSlash(dir), nil
}

// Root returns the root directory.
func (s *Store) Root() string { return s.root }

// path returns the file for key, refusing keys that would leave the root
// or collide with temporary files.
func (s *Store) path(key string) (string, error) {
	if key == "" || !filepath.IsLocal(filepath.FromSlash(key)) || path.Clean(key) != key {
		return "", fmt.Errorf("localstore: invalid object key %q: must be a clean relative path", key)
	}
	if isTemp(path.Base(key)) {
		return "", fmt.Errorf("localstore: invalid object key %q: names a temporary file", key)
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tmpMarker)
}

// Create starts an object in a temporary file next to its target.
func (s *Store) Create(ctx context.Context, key string) (storage.ObjectWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	target, err := s.path(key)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+tmpMarker+"*")
	if err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	return &Writer{f: f, target: target}, nil
}

// Open opens a committed object; a missing one is an error matching
// fs.ErrNotExist.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	return f, nil
}

// List returns the keys under prefix, sorted, leaving out temporary files.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	// Walk only the deepest directory the prefix names.
	start := s.root
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		start = filepath.Join(s.root, filepath.FromSlash(prefix[:i]))
	}
	var keys []string
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || isTemp(d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("localstore: listing %q: %w", prefix, err)
	}
	slices.Sort(keys)
	return keys, nil
}

// Close does nothing.
func (s *Store) Close() error { return nil }

// Writer is an object being written to a temporary file. It is not safe for
// concurrent use.
type Writer struct {
	f      *os.File
	target string
	closed bool
}

// Write writes to the temporary file.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	return w.f.Write(p)
}

// Commit syncs the temporary file, renames it over the target and syncs
// the directory. After an error the temporary file is removed.
func (w *Writer) Commit(ctx context.Context) error {
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	tmp := w.f.Name()
	err := ctx.Err()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, w.target)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("localstore: committing %s: %w", w.target, err)
	}
	if err := syncDir(filepath.Dir(w.target)); err != nil {
		return fmt.Errorf("localstore: committing %s: %w", w.target, err)
	}
	return nil
}

// Abort removes the temporary file. It does nothing after Commit or Abort.
func (w *Writer) Abort(context.Context) error {
	if w.closed {
		return nil
	}
	w.closed = true
	_ = w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("localstore: %w", err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
