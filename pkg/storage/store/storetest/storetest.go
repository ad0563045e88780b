// Package storetest is the acceptance suite every storage.Store runs: the
// contract of storage.Store and storage.ObjectWriter (nothing visible
// before Commit, whole replacement, Abort leaves nothing, sorted List).
package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/storage"
)

// Run runs the contract tests against stores made by newStore, one fresh
// (empty) store per subtest. Open of a missing key must fail with an error
// matching fs.ErrNotExist.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(ctx context.Context, t *testing.T, s storage.Store)
	}{
		{name: "small object round trip", run: testRoundTrip},
		{name: "empty object", run: testEmpty},
		{name: "invisible before commit", run: testInvisibleBeforeCommit},
		{name: "commit replaces whole", run: testReplace},
		{name: "abort leaves nothing", run: testAbort},
		{name: "abort after commit keeps object", run: testAbortAfterCommit},
		{name: "use after close fails", run: testUseAfterClose},
		{name: "list sorted and filtered", run: testList},
		{name: "open missing", run: testOpenMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s := newStore(t)
			tt.run(ctx, t, s)
		})
	}
}

func testRoundTrip(ctx context.Context, t *testing.T, s storage.Store) {
	Put(ctx, t, s, "topics/t/partition=0/t+0+0000000000.json", []byte("{\"a\":1}\n"))
	Expect(ctx, t, s, "topics/t/partition=0/t+0+0000000000.json", []byte("{\"a\":1}\n"))
}

func testEmpty(ctx context.Context, t *testing.T, s storage.Store) {
	Put(ctx, t, s, "empty", nil)
	Expect(ctx, t, s, "empty", nil)
}

func testInvisibleBeforeCommit(ctx context.Context, t *testing.T, s storage.Store) {
	w, err := s.Create(ctx, "dir/obj")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	write(t, w, []byte("partial"))
	ExpectKeys(ctx, t, s, "", nil)
	if _, err := s.Open(ctx, "dir/obj"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open before Commit: err = %v, want fs.ErrNotExist", err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	ExpectKeys(ctx, t, s, "", []string{"dir/obj"})
}

func testReplace(ctx context.Context, t *testing.T, s storage.Store) {
	Put(ctx, t, s, "k", bytes.Repeat([]byte("old "), 100))
	w, err := s.Create(ctx, "k")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	write(t, w, []byte("new"))
	// The old object stays whole until Commit.
	Expect(ctx, t, s, "k", bytes.Repeat([]byte("old "), 100))
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	Expect(ctx, t, s, "k", []byte("new"))
	ExpectKeys(ctx, t, s, "", []string{"k"})
}

func testAbort(ctx context.Context, t *testing.T, s storage.Store) {
	w, err := s.Create(ctx, "a/b")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	write(t, w, []byte("discard me"))
	if err := w.Abort(ctx); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if err := w.Abort(ctx); err != nil {
		t.Fatalf("second Abort: %v", err)
	}
	ExpectKeys(ctx, t, s, "", nil)
}

func testAbortAfterCommit(ctx context.Context, t *testing.T, s storage.Store) {
	w, err := s.Create(ctx, "k")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	write(t, w, []byte("kept"))
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := w.Abort(ctx); err != nil {
		t.Fatalf("Abort after Commit: %v", err)
	}
	Expect(ctx, t, s, "k", []byte("kept"))
}

func testUseAfterClose(ctx context.Context, t *testing.T, s storage.Store) {
	w, err := s.Create(ctx, "k")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := w.Abort(ctx); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Abort succeeded")
	}
	if err := w.Commit(ctx); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	ExpectKeys(ctx, t, s, "", nil)
}

func testList(ctx context.Context, t *testing.T, s storage.Store) {
	keys := []string{"b/2", "a/1", "b/10", "a/0", "b/1", "c"}
	for _, k := range keys {
		Put(ctx, t, s, k, []byte(k))
	}
	ExpectKeys(ctx, t, s, "", []string{"a/0", "a/1", "b/1", "b/10", "b/2", "c"})
	ExpectKeys(ctx, t, s, "b/", []string{"b/1", "b/10", "b/2"})
	ExpectKeys(ctx, t, s, "b/1", []string{"b/1", "b/10"})
	ExpectKeys(ctx, t, s, "zzz", nil)
}

func testOpenMissing(ctx context.Context, t *testing.T, s storage.Store) {
	if _, err := s.Open(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open(missing) err = %v, want fs.ErrNotExist", err)
	}
}

// Put writes and commits one object.
func Put(ctx context.Context, t testing.TB, s storage.Store, key string, data []byte) {
	t.Helper()
	w, err := s.Create(ctx, key)
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	write(t, w, data)
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit(%q): %v", key, err)
	}
}

// Expect checks that key holds want.
func Expect(ctx context.Context, t testing.TB, s storage.Store, key string, want []byte) {
	t.Helper()
	r, err := s.Open(ctx, key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%q holds %d bytes %.40q, want %d bytes %.40q", key, len(got), got, len(want), want)
	}
}

// ExpectKeys checks List(prefix).
func ExpectKeys(ctx context.Context, t testing.TB, s storage.Store, prefix string, want []string) {
	t.Helper()
	got, err := s.List(ctx, prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List(%q) = %q, want %q", prefix, got, want)
	}
}

func write(t testing.TB, w io.Writer, data []byte) {
	t.Helper()
	if n, err := w.Write(data); err != nil || n != len(data) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(data))
	}
}
