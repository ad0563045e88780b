package localstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/store/storetest"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storage.Store { return newStore(t) })
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestTempFilesNeverListed(t *testing.T) {
	tests := []struct {
		name string
		// commit ends the writer; otherwise it is left open, as after a crash.
		commit bool
		want   []string
	}{
		{name: "open writer", commit: false, want: nil},
		{name: "committed writer", commit: true, want: []string{"t/p=0/f.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			s := newStore(t)
			w, err := s.Create(ctx, "t/p=0/f.json")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte("data")); err != nil {
				t.Fatal(err)
			}
			if tt.commit {
				if err := w.Commit(ctx); err != nil {
					t.Fatal(err)
				}
			}
			storetest.ExpectKeys(ctx, t, s, "", tt.want)
			storetest.ExpectKeys(ctx, t, s, "t/p=0/", tt.want)
			entries, err := os.ReadDir(filepath.Join(s.Root(), "t", "p=0"))
			if err != nil {
				t.Fatal(err)
			}
			temps := 0
			for _, e := range entries {
				if isTemp(e.Name()) {
					temps++
				}
			}
			if want := map[bool]int{true: 0, false: 1}[tt.commit]; temps != want {
				t.Errorf("%d temporary files on disk, want %d", temps, want)
			}
		})
	}
}

func TestReplaceIsWhole(t *testing.T) {
	ctx := testCtx(t)
	s := newStore(t)
	old := []byte(strings.Repeat("old-", 1000))
	storetest.Put(ctx, t, s, "k", old)
	p := filepath.Join(s.Root(), "k")
	before, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if _, err := w.Write([]byte("new-")); err != nil {
			t.Fatal(err)
		}
		// Readers see the old object, whole, until Commit.
		storetest.Expect(ctx, t, s, "k", old)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.Expect(ctx, t, s, "k", []byte(strings.Repeat("new-", 100)))
	after, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, after) {
		t.Error("the object was rewritten in place, not replaced by rename")
	}
}

func TestInvalidKeys(t *testing.T) {
	tests := []struct {
		name string
		key  string
	}{
		{name: "empty", key: ""},
		{name: "absolute", key: "/etc/passwd"},
		{name: "escapes root", key: "../x"},
		{name: "unclean", key: "a//b"},
		{name: "temporary name", key: "a/.b.tmp-123"},
	}
	s := newStore(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Create(testCtx(t), tt.key); err == nil {
				t.Fatalf("Create(%q) succeeded", tt.key)
			}
		})
	}
}

func TestPathFromURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		want    string
		wantErr bool
	}{
		{name: "absolute", url: "file:///var/sluice", want: "/var/sluice"},
		{name: "localhost", url: "file://localhost/var/sluice", want: "/var/sluice"},
		{name: "relative", url: "file:data/out", want: "data/out"},
		{name: "remote host", url: "file://nas/share", wantErr: true},
		{name: "not file", url: "s3://bucket", wantErr: true},
		{name: "no path", url: "file://", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PathFromURL(tt.url)
			if (err != nil) != tt.wantErr || got != filepath.FromSlash(tt.want) {
				t.Fatalf("PathFromURL(%q) = %q, %v; want %q, error %v", tt.url, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
