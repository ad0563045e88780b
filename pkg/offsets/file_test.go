package offsets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func newFile(t *testing.T, path string) *File {
	t.Helper()
	f, err := NewFile(path)
	if err != nil {
		t.Fatalf("NewFile(%s): %v", path, err)
	}
	return f
}

func load(t *testing.T, s Store, connector string) map[string]Entry {
	t.Helper()
	m, err := s.Load(context.Background(), connector)
	if err != nil {
		t.Fatalf("Load(%s): %v", connector, err)
	}
	return m
}

func write(t *testing.T, s Store, connector string, entries ...Entry) {
	t.Helper()
	if err := s.Write(context.Background(), connector, entries); err != nil {
		t.Fatalf("Write(%s): %v", connector, err)
	}
}

func TestFilePersistReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connect.offsets")
	f := newFile(t, path)
	if got := load(t, f, "file-source"); len(got) != 0 {
		t.Fatalf("empty store Load = %v", got)
	}

	a := map[string]any{"filename": "/tmp/a.txt"}
	b := map[string]any{"filename": "/tmp/b.txt"}
	write(t, f, "file-source",
		Entry{Partition: a, Offset: map[string]any{"position": int64(10)}},
		Entry{Partition: b, Offset: map[string]any{"position": int64(20), "meta": map[string]any{"x": 1.5}}},
	)
	write(t, f, "file-source", Entry{Partition: a, Offset: map[string]any{"position": int64(11)}})
	write(t, f, "other", Entry{Partition: a, Offset: map[string]any{"position": int64(99)}})

	want := map[string]Entry{
		PartitionID(a): {Partition: a, Offset: map[string]any{"position": int64(11)}},
		PartitionID(b): {Partition: b, Offset: map[string]any{"position": int64(20), "meta": map[string]any{"x": 1.5}}},
	}
	if got := load(t, f, "file-source"); !reflect.DeepEqual(got, want) {
		t.Fatalf("Load = %#v, want %#v", got, want)
	}

	// A second instance (a restart) sees the same state.
	g := newFile(t, path)
	if got := load(t, g, "file-source"); !reflect.DeepEqual(got, want) {
		t.Fatalf("reloaded Load = %#v, want %#v", got, want)
	}
	if got := load(t, g, "other"); got[PartitionID(a)].Offset["position"] != int64(99) {
		t.Fatalf("other connector = %#v", got)
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `{"key": ["file-source",{"filename":"/tmp/a.txt"}], "value": {"position":11}}`) {
		t.Fatalf("file does not hold Connect's key/value JSON:\n%s", raw)
	}
	if leftovers, _ := filepath.Glob(path + ".tmp-*"); len(leftovers) > 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}
}

func TestFileDelete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "offsets.json")
	f := newFile(t, path)
	p := map[string]any{"table": "t1"}
	write(t, f, "c", Entry{Partition: p, Offset: map[string]any{"id": int64(5)}})
	write(t, f, "c", Entry{Partition: p, Offset: nil})
	if got := load(t, f, "c"); len(got) != 0 {
		t.Fatalf("Load after delete = %v", got)
	}
	if got := load(t, newFile(t, path), "c"); len(got) != 0 {
		t.Fatalf("reloaded Load after delete = %v", got)
	}
}

func TestFileConcurrentWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "offsets.json")
	f := newFile(t, path)
	const writers, perWriter = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			connector := fmt.Sprintf("c%d", w%2)
			for i := range perWriter {
				e := Entry{
					Partition: map[string]any{"writer": int64(w)},
					Offset:    map[string]any{"n": int64(i)},
				}
				if err := f.Write(context.Background(), connector, []Entry{e}); err != nil {
					errs <- err
				}
				if _, err := f.Load(context.Background(), connector); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	g := newFile(t, path)
	for w := range writers {
		connector := fmt.Sprintf("c%d", w%2)
		got := load(t, g, connector)[PartitionID(map[string]any{"writer": int64(w)})]
		if got.Offset["n"] != int64(perWriter-1) {
			t.Fatalf("writer %d final offset = %#v, want %d", w, got.Offset, perWriter-1)
		}
	}
}

func TestFileRejectsForeignFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "offsets.json")
	if err := os.WriteFile(path, []byte(`{"format":"other","offsets":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFile(path); err == nil {
		t.Fatal("NewFile accepted a foreign format")
	}
}

func TestFileWriteContextCanceled(t *testing.T) {
	f := newFile(t, filepath.Join(t.TempDir(), "offsets.json"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Write(ctx, "c", []Entry{{Partition: map[string]any{"a": "b"}, Offset: map[string]any{"n": 1}}}); err == nil {
		t.Fatal("Write with canceled context succeeded")
	}
}
