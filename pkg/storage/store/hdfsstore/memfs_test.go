package hdfsstore

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// memFS is an in-memory FileSystem that behaves as HDFS does where the
// protocol depends on it: a file being written is visible, with what has
// been written so far, from the moment it is created; Create refuses an
// existing file and a missing parent directory; Rename replaces the target
// when overwrite is set (colinmarc's rename2) and otherwise fails with
// fs.ErrExist (plain HDFS rename).
type memFS struct {
	overwrite bool

	mu    sync.Mutex
	files map[string]*bytes.Buffer
	dirs  map[string]bool
	// failRename, when set, is returned by the next Rename.
	failRename error
}

func newMemFS(overwrite bool) *memFS {
	return &memFS{overwrite: overwrite, files: map[string]*bytes.Buffer{}, dirs: map[string]bool{"/": true}}
}

func (m *memFS) Create(name string) (io.WriteCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; ok || m.dirs[name] {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrExist}
	}
	if !m.dirs[path.Dir(name)] {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrNotExist}
	}
	buf := &bytes.Buffer{}
	m.files[name] = buf
	return &memFile{m: m, buf: buf}, nil
}

type memFile struct {
	m      *memFS
	buf    *bytes.Buffer
	closed bool
}

func (f *memFile) Write(p []byte) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.closed {
		return 0, fs.ErrClosed
	}
	return f.buf.Write(p)
}

func (f *memFile) Close() error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	f.closed = true
	return nil
}

func (m *memFS) Open(name string) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	buf, ok := m.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return io.NopCloser(bytes.NewReader(bytes.Clone(buf.Bytes()))), nil
}

func (m *memFS) Rename(oldpath, newpath string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.failRename; err != nil {
		m.failRename = nil
		return err
	}
	buf, ok := m.files[oldpath]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldpath, Err: fs.ErrNotExist}
	}
	if !m.dirs[path.Dir(newpath)] {
		return &fs.PathError{Op: "rename", Path: newpath, Err: fs.ErrNotExist}
	}
	if _, exists := m.files[newpath]; exists && !m.overwrite {
		return &fs.PathError{Op: "rename", Path: newpath, Err: fs.ErrExist}
	}
	delete(m.files, oldpath)
	m.files[newpath] = buf
	return nil
}

func (m *memFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(m.files, name)
	return nil
}

func (m *memFS) ReadDir(dirname string) ([]fs.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dirname] {
		return nil, &fs.PathError{Op: "readdir", Path: dirname, Err: fs.ErrNotExist}
	}
	var out []fs.FileInfo
	for d := range m.dirs {
		if d != "/" && path.Dir(d) == dirname {
			out = append(out, memInfo{name: path.Base(d), dir: true})
		}
	}
	for f, buf := range m.files {
		if path.Dir(f) == dirname {
			out = append(out, memInfo{name: path.Base(f), size: int64(buf.Len())})
		}
	}
	slices.SortFunc(out, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

func (m *memFS) MkdirAll(dirname string, _ fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := path.Clean(dirname); d != "/"; d = path.Dir(d) {
		if _, ok := m.files[d]; ok {
			return &fs.PathError{Op: "mkdir", Path: d, Err: fmt.Errorf("is a file")}
		}
		m.dirs[d] = true
	}
	return nil
}

func (m *memFS) Close() error { return nil }

// paths returns every file's path, sorted.
func (m *memFS) paths() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for f := range m.files {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

type memInfo struct {
	name string
	size int64
	dir  bool
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
