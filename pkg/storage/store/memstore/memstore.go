// Package memstore is an in-memory storage.Store for fast tests, with
// fault injection: FailNextCreate, FailNextWrite and FailNextCommit make the
// next such call fail, so that tests can show what a sink does when its
// store does. Objects are held whole in memory; do not use it for data.
package memstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/sluicehq/sluice/pkg/storage"
)

var (
	_ storage.Store        = (*Store)(nil)
	_ storage.ObjectWriter = (*Writer)(nil)
)

// ErrClosed is returned by a Writer used after Commit or Abort, and by a
// Store used after Close.
var ErrClosed = errors.New("memstore: closed")

// Store is a map of committed objects. It is safe for concurrent use.
type Store struct {
	mu         sync.Mutex
	objects    map[string][]byte
	open       int // writers neither committed nor aborted
	failCreate error
	failWrite  error
	failCommit error
	closed     bool
}

// New returns an empty Store.
func New() *Store { return &Store{objects: make(map[string][]byte)} }

// FailNextCreate makes the next Create return err.
func (s *Store) FailNextCreate(err error) { s.mu.Lock(); s.failCreate = err; s.mu.Unlock() }

// FailNextWrite makes the next Write on any of the store's writers return
// err, after which that writer fails every Write and Commit.
func (s *Store) FailNextWrite(err error) { s.mu.Lock(); s.failWrite = err; s.mu.Unlock() }

// FailNextCommit makes the next Commit return err without making the
// object visible.
func (s *Store) FailNextCommit(err error) { s.mu.Lock(); s.failCommit = err; s.mu.Unlock() }

// OpenWriters returns how many writers are neither committed nor aborted,
// for tests that check a sink cleans up.
func (s *Store) OpenWriters() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
}

// Snapshot returns a copy of every committed object.
func (s *Store) Snapshot() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]byte, len(s.objects))
	for k, v := range s.objects {
		out[k] = bytes.Clone(v)
	}
	return out
}

// Create starts an object.
func (s *Store) Create(ctx context.Context, key string) (storage.ObjectWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, errors.New("memstore: empty object key")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if err := s.failCreate; err != nil {
		s.failCreate = nil
		return nil, err
	}
	s.open++
	return &Writer{s: s, key: key}, nil
}

// Open returns a committed object; a missing key is an error matching
// fs.ErrNotExist.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.objects[key]
	if !ok {
		return nil, fmt.Errorf("memstore: open %q: %w", key, fs.ErrNotExist)
	}
	// Committed slices are never modified, so readers can share them.
	return io.NopCloser(bytes.NewReader(data)), nil
}

// List returns the keys under prefix, sorted.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Close makes further Creates fail; committed objects stay readable.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// Writer buffers an object until Commit. It is not safe for concurrent use.
type Writer struct {
	s      *Store
	key    string
	buf    bytes.Buffer
	err    error
	closed bool
}

// Write appends p.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	w.s.mu.Lock()
	err := w.s.failWrite
	w.s.failWrite = nil
	w.s.mu.Unlock()
	if err != nil {
		w.err = err
		return 0, err
	}
	return w.buf.Write(p)
}

// Commit makes the object visible, replacing any earlier one.
func (w *Writer) Commit(ctx context.Context) error {
	if w.closed {
		return ErrClosed
	}
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.closed = true
	w.s.open--
	err := w.err
	if err == nil {
		err = ctx.Err()
	}
	if err == nil && w.s.failCommit != nil {
		err, w.s.failCommit = w.s.failCommit, nil
	}
	if err != nil {
		return err
	}
	w.s.objects[w.key] = bytes.Clone(w.buf.Bytes())
	return nil
}

// Abort discards the object. It does nothing after Commit or Abort.
func (w *Writer) Abort(context.Context) error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.s.mu.Lock()
	w.s.open--
	w.s.mu.Unlock()
	return nil
}
