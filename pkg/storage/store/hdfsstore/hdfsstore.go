// Package hdfsstore stores objects in HDFS, as Confluent's HDFS sink
// connector does: an object is written to a temporary file,
// "<dir>/+tmp/<random>" next to its target directory, and renamed to its
// key on Commit; Abort removes the temporary file. List ignores "+tmp"
// directories, so a writer that crashed before its rename leaves only a
// temporary file nobody reads.
//
// The filesystem is behind FileSystem. Dial connects one backed by
// github.com/colinmarc/hdfs/v2, whose Rename is HDFS rename2 with
// OverwriteDest, an atomic replace; for a FileSystem whose Rename refuses to
// replace (fs.ErrExist), Commit removes the old object and renames again,
// which leaves a short window with no object under the key.
//
// What is verified and what is not: the temp-and-rename protocol (partial
// writes invisible, Abort leaves nothing, rename replaces whole, a crash
// before the rename leaves only an ignored temporary file) is tested
// against an in-memory FileSystem that behaves as HDFS does (a file being
// written is visible with its partial content; create refuses an existing
// file or a missing parent). The colinmarc client itself (Dial,
// ErrReplicating retries, Kerberos) is not tested here: no HDFS namenode
// runs in this environment.
package hdfsstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/colinmarc/hdfs/v2"

	"github.com/sluicehq/sluice/pkg/storage"
)

var (
	_ storage.Store        = (*Store)(nil)
	_ storage.ObjectWriter = (*Writer)(nil)
	_ FileSystem           = (*Client)(nil)
)

// TmpDir is the name of the directories holding temporary files, as in
// Confluent's HDFS connector.
const TmpDir = "+tmp"

// ErrClosed is returned by a Writer used after Commit or Abort.
var ErrClosed = errors.New("hdfsstore: object writer already committed or aborted")

// FileSystem is what the store needs from HDFS. Paths are absolute and
// slash-separated. Errors for missing files match fs.ErrNotExist.
type FileSystem interface {
	// Create creates a new file; it fails if name exists or its parent
	// directory does not.
	Create(name string) (io.WriteCloser, error)
	// Open opens a file for reading.
	Open(name string) (io.ReadCloser, error)
	// Rename moves oldpath to newpath, replacing newpath if the
	// implementation can (else failing with an error matching fs.ErrExist).
	Rename(oldpath, newpath string) error
	// Remove removes a file.
	Remove(name string) error
	// ReadDir lists a directory.
	ReadDir(dirname string) ([]fs.FileInfo, error)
	// MkdirAll creates a directory and its parents.
	MkdirAll(dirname string, perm fs.FileMode) error
	// Close releases the connection.
	Close() error
}

// Client is the FileSystem backed by github.com/colinmarc/hdfs/v2.
type Client struct {
	c *hdfs.Client
}

// Create implements FileSystem.
func (c *Client) Create(name string) (io.WriteCloser, error) {
	w, err := c.c.Create(name)
	if err != nil {
		return nil, err
	}
	return replicatingCloser{w}, nil
}

// Open implements FileSystem.
func (c *Client) Open(name string) (io.ReadCloser, error) { return c.c.Open(name) }

// Rename implements FileSystem; it replaces newpath atomically.
func (c *Client) Rename(oldpath, newpath string) error { return c.c.Rename(oldpath, newpath) }

// Remove implements FileSystem.
func (c *Client) Remove(name string) error { return c.c.Remove(name) }

// ReadDir implements FileSystem.
func (c *Client) ReadDir(dirname string) ([]fs.FileInfo, error) { return c.c.ReadDir(dirname) }

// MkdirAll implements FileSystem.
func (c *Client) MkdirAll(dirname string, perm fs.FileMode) error {
	return c.c.MkdirAll(dirname, perm)
}

// Close implements FileSystem.
func (c *Client) Close() error { return c.c.Close() }

// replicatingCloser retries Close while HDFS reports ErrReplicating (the
// data is acknowledged but the namenode has not closed the file), as the
// Java client does, then gives up waiting: the data is safe and the lease
// expires on its own.
type replicatingCloser struct{ *hdfs.FileWriter }

func (r replicatingCloser) Close() error {
	wait := 100 * time.Millisecond
	for range 8 {
		err := r.FileWriter.Close()
		if !hdfs.IsErrReplicating(err) {
			return err
		}
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Second)
	}
	return nil
}

// Store is a directory tree in HDFS. It is safe for concurrent use if its
// FileSystem is.
type Store struct {
	fs   FileSystem
	root string
}

// New returns a Store writing keys under root (an absolute path; "" is
// "/") of fsys. The Store closes fsys on Close.
func New(fsys FileSystem, root string) *Store {
	root = path.Clean("/" + root)
	return &Store{fs: fsys, root: root}
}

func (s *Store) path(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || path.Clean(key) != key || strings.HasPrefix(key, "../") || key == ".." {
		return "", fmt.Errorf("hdfsstore: invalid object key %q: must be a clean relative path", key)
	}
	if slices.Contains(strings.Split(key, "/"), TmpDir) {
		return "", fmt.Errorf("hdfsstore: invalid object key %q: %s is reserved for temporary files", key, TmpDir)
	}
	return path.Join(s.root, key), nil
}

// Create starts an object in a temporary file. Nothing of it is buffered
// here; the HDFS client buffers one packet (64 KiB).
func (s *Store) Create(ctx context.Context, key string) (storage.ObjectWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	target, err := s.path(key)
	if err != nil {
		return nil, err
	}
	tmpDir := path.Join(path.Dir(target), TmpDir)
	if err := s.fs.MkdirAll(tmpDir, 0o755); err != nil {
		return nil, fmt.Errorf("hdfsstore: creating %s: %w", tmpDir, err)
	}
	tmp := path.Join(tmpDir, randomName()+".tmp")
	w, err := s.fs.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("hdfsstore: creating %s: %w", tmp, err)
	}
	return &Writer{s: s, w: w, tmp: tmp, target: target}, nil
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
	r, err := s.fs.Open(p)
	if err != nil {
		return nil, fmt.Errorf("hdfsstore: opening %s: %w", p, err)
	}
	return r, nil
}

// List returns the keys under prefix, sorted, leaving out temporary files.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	start := s.root
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		start = path.Join(s.root, prefix[:i])
	}
	var keys []string
	// An explicit stack rather than recursion: the walk is bounded by the
	// tree, whatever its depth.
	dirs := []string{start}
	for len(dirs) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dir := dirs[len(dirs)-1]
		dirs = dirs[:len(dirs)-1]
		infos, err := s.fs.ReadDir(dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("hdfsstore: listing %s: %w", dir, err)
		}
		for _, fi := range infos {
			p := path.Join(dir, fi.Name())
			if fi.IsDir() {
				if fi.Name() != TmpDir {
					dirs = append(dirs, p)
				}
				continue
			}
			key := strings.TrimPrefix(strings.TrimPrefix(p, s.root), "/")
			if strings.HasPrefix(key, prefix) {
				keys = append(keys, key)
			}
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Close closes the FileSystem.
func (s *Store) Close() error { return s.fs.Close() }

// Writer is an object being written to a temporary file. It is not safe
// for concurrent use.
type Writer struct {
	s      *Store
	w      io.WriteCloser
	tmp    string
	target string
	closed bool
	// werr is the first Write error: a writer that lost data never commits.
	werr error
}

// Write writes to the temporary file.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.werr != nil {
		return 0, w.werr
	}
	n, err := w.w.Write(p)
	if err != nil {
		w.werr = err
	}
	return n, err
}

// Commit closes the temporary file and renames it to the key, replacing
// any earlier object. After an error, or after a Write failed (the file
// may lack data), the temporary file is removed and nothing is committed.
func (w *Writer) Commit(ctx context.Context) error {
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	err := w.werr
	if err == nil {
		err = ctx.Err()
	}
	if cerr := w.w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.s.fs.Rename(w.tmp, w.target)
		if errors.Is(err, fs.ErrExist) {
			// This FileSystem's rename does not replace: remove, then rename.
			if err = w.s.fs.Remove(w.target); err == nil || errors.Is(err, fs.ErrNotExist) {
				err = w.s.fs.Rename(w.tmp, w.target)
			}
		}
	}
	if err != nil {
		_ = w.s.fs.Remove(w.tmp)
		return fmt.Errorf("hdfsstore: committing %s: %w", w.target, err)
	}
	return nil
}

// Abort removes the temporary file. It does nothing after Commit or Abort.
func (w *Writer) Abort(context.Context) error {
	if w.closed {
		return nil
	}
	w.closed = true
	_ = w.w.Close()
	if err := w.s.fs.Remove(w.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("hdfsstore: removing %s: %w", w.tmp, err)
	}
	return nil
}

func randomName() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
