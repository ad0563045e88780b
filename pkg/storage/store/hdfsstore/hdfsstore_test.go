package hdfsstore

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/store/storetest"
)

// renameModes are the two HDFS rename behaviours the store must handle.
var renameModes = []struct {
	name      string
	overwrite bool
}{
	{name: "rename2 overwrites", overwrite: true},
	{name: "rename refuses existing target", overwrite: false},
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestContract(t *testing.T) {
	for _, mode := range renameModes {
		t.Run(mode.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) storage.Store {
				return New(newMemFS(mode.overwrite), "/data")
			})
		})
	}
}

func TestTempAndRename(t *testing.T) {
	const key = "topics/t/partition=0/t+0+0000000000.json"
	const target = "/data/" + key
	tests := []struct {
		name string
		// end finishes the writer: commit, abort, or nothing (a crash).
		end       func(ctx context.Context, w storage.ObjectWriter) error
		wantKeys  []string
		wantFiles func(paths []string) bool
	}{
		{
			name:     "commit renames the temporary file to the key",
			end:      func(ctx context.Context, w storage.ObjectWriter) error { return w.Commit(ctx) },
			wantKeys: []string{key},
			wantFiles: func(paths []string) bool {
				return len(paths) == 1 && paths[0] == target
			},
		},
		{
			name:      "abort leaves nothing",
			end:       func(ctx context.Context, w storage.ObjectWriter) error { return w.Abort(ctx) },
			wantFiles: func(paths []string) bool { return len(paths) == 0 },
		},
		{
			name: "crash before rename leaves only an ignored temporary file",
			end:  func(context.Context, storage.ObjectWriter) error { return nil },
			wantFiles: func(paths []string) bool {
				return len(paths) == 1 && strings.HasPrefix(paths[0], "/data/topics/t/partition=0/+tmp/")
			},
		},
	}
	for _, mode := range renameModes {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				ctx := testCtx(t)
				fsys := newMemFS(mode.overwrite)
				s := New(fsys, "/data")
				w, err := s.Create(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Write([]byte("partial")); err != nil {
					t.Fatal(err)
				}
				// HDFS shows the file being written; the store must not.
				if paths := fsys.paths(); len(paths) != 1 || !strings.Contains(paths[0], "/+tmp/") {
					t.Fatalf("files while writing: %q, want one temporary file", paths)
				}
				storetest.ExpectKeys(ctx, t, s, "", nil)
				storetest.ExpectKeys(ctx, t, s, "topics/t/", nil)
				if err := tt.end(ctx, w); err != nil {
					t.Fatal(err)
				}
				storetest.ExpectKeys(ctx, t, s, "", tt.wantKeys)
				if paths := fsys.paths(); !tt.wantFiles(paths) {
					t.Fatalf("files after: %q", paths)
				}
			})
		}
	}
}

func TestRenameReplacesWhole(t *testing.T) {
	for _, mode := range renameModes {
		t.Run(mode.name, func(t *testing.T) {
			ctx := testCtx(t)
			fsys := newMemFS(mode.overwrite)
			s := New(fsys, "/")
			storetest.Put(ctx, t, s, "k", []byte("old old old"))
			w, err := s.Create(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte("new")); err != nil {
				t.Fatal(err)
			}
			storetest.Expect(ctx, t, s, "k", []byte("old old old"))
			if err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			storetest.Expect(ctx, t, s, "k", []byte("new"))
			if paths := fsys.paths(); len(paths) != 1 || paths[0] != "/k" {
				t.Fatalf("files: %q, want only /k", paths)
			}
		})
	}
}

func TestFailedRenameRemovesTemp(t *testing.T) {
	ctx := testCtx(t)
	fsys := newMemFS(true)
	s := New(fsys, "/")
	storetest.Put(ctx, t, s, "k", []byte("old"))
	w, err := s.Create(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("new")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("namenode went away")
	fsys.failRename = boom
	if err := w.Commit(ctx); !errors.Is(err, boom) || !strings.Contains(err.Error(), "/k") {
		t.Fatalf("Commit err = %v, want the rename error naming /k", err)
	}
	storetest.Expect(ctx, t, s, "k", []byte("old"))
	if paths := fsys.paths(); len(paths) != 1 {
		t.Fatalf("files: %q, want only /k", paths)
	}
}

func TestInvalidKeys(t *testing.T) {
	tests := []struct {
		name string
		key  string
	}{
		{name: "empty", key: ""},
		{name: "absolute", key: "/x"},
		{name: "escapes root", key: "../x"},
		{name: "unclean", key: "a/./b"},
		{name: "temporary directory", key: "a/+tmp/b"},
	}
	s := New(newMemFS(true), "/")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Create(testCtx(t), tt.key); err == nil {
				t.Fatalf("Create(%q) succeeded", tt.key)
			}
		})
	}
}

func TestDialRejectsBadURLs(t *testing.T) {
	tests := []struct {
		name string
		url  string
	}{
		{name: "no scheme", url: "namenode:8020"},
		{name: "wrong scheme", url: "s3://bucket"},
		{name: "no host", url: "hdfs:///data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Dial(testCtx(t), Options{URL: tt.url}); err == nil || !strings.Contains(err.Error(), "hdfs://") {
				t.Fatalf("Dial(%q) err = %v, want one explaining the URL form", tt.url, err)
			}
		})
	}
}

var _ io.Closer = (*Store)(nil)
