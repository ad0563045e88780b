package memstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storage.Store { return New() })
}

func TestFaults(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name   string
		inject func(s *Store)
	}{
		{name: "create", inject: func(s *Store) { s.FailNextCreate(boom) }},
		{name: "write", inject: func(s *Store) { s.FailNextWrite(boom) }},
		{name: "commit", inject: func(s *Store) { s.FailNextCommit(boom) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s := New()
			tt.inject(s)
			err := put(ctx, s, "k", "v")
			if !errors.Is(err, boom) {
				t.Fatalf("first put: err = %v, want boom", err)
			}
			storetest.ExpectKeys(ctx, t, s, "", nil)
			if n := s.OpenWriters(); n != 0 {
				t.Fatalf("%d writers left open", n)
			}
			// The fault fires once.
			if err := put(ctx, s, "k", "v"); err != nil {
				t.Fatalf("second put: %v", err)
			}
			storetest.Expect(ctx, t, s, "k", []byte("v"))
		})
	}
}

func put(ctx context.Context, s *Store, key, value string) error {
	w, err := s.Create(ctx, key)
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(value)); err != nil {
		_ = w.Abort(ctx)
		return err
	}
	return w.Commit(ctx)
}
