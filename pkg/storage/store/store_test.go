package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/s3test"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/store/hdfsstore"
	"github.com/sluicehq/sluice/pkg/storage/store/localstore"
	"github.com/sluicehq/sluice/pkg/storage/store/s3store"
	"github.com/sluicehq/sluice/pkg/storage/store/storetest"
)

func TestOpenChoosesStore(t *testing.T) {
	fake := s3test.StartFake(t)
	dir := t.TempDir()
	tests := []struct {
		name  string
		props map[string]string
		check func(t *testing.T, s storage.Store)
	}{
		{
			name:  "file URL",
			props: map[string]string{"store.url": "file://" + dir},
			check: func(t *testing.T, s storage.Store) {
				if l, ok := s.(*localstore.Store); !ok || l.Root() != dir {
					t.Fatalf("got %T, want a localstore rooted at %s", s, dir)
				}
			},
		},
		{
			name:  "file URL wins over a bucket",
			props: map[string]string{"store.url": "file://" + dir, "s3.bucket.name": "b"},
			check: func(t *testing.T, s storage.Store) {
				if _, ok := s.(*localstore.Store); !ok {
					t.Fatalf("got %T, want a localstore", s)
				}
			},
		},
		{
			name:  "S3 endpoint",
			props: fake.Props(),
			check: func(t *testing.T, s storage.Store) {
				if b, ok := s.(*s3store.Store); !ok || b.Bucket() != fake.Bucket {
					t.Fatalf("got %T, want an s3store on %s", s, fake.Bucket)
				}
			},
		},
		{
			name:  "AWS S3 by bucket alone",
			props: map[string]string{"s3.bucket.name": "b", "aws.access.key.id": "a", "aws.secret.access.key": "s"},
			check: func(t *testing.T, s storage.Store) {
				if _, ok := s.(*s3store.Store); !ok {
					t.Fatalf("got %T, want an s3store", s)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := Open(ctx, tt.props)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			tt.check(t, s)
			if _, ok := s.(*s3store.Store); ok && tt.props["store.url"] == "" {
				return // no AWS here
			}
			storetest.Put(ctx, t, s, "a/b", []byte("c"))
			storetest.Expect(ctx, t, s, "a/b", []byte("c"))
		})
	}
}

func TestOpenNamesBadKeys(t *testing.T) {
	tests := []struct {
		name    string
		props   map[string]string
		wantKey string
		wantMsg string
	}{
		{name: "nothing configured", props: map[string]string{}, wantKey: "store.url", wantMsg: "s3.bucket.name"},
		{name: "unknown scheme", props: map[string]string{"store.url": "ftp://h/x"}, wantKey: "store.url", wantMsg: "scheme"},
		{name: "file URL on another host", props: map[string]string{"store.url": "file://nas/x"}, wantKey: "store.url", wantMsg: "nas"},
		{name: "S3 endpoint without bucket", props: map[string]string{"store.url": "http://127.0.0.1:9"}, wantKey: "s3.bucket.name", wantMsg: "s3.bucket.name"},
		{name: "hdfs.url without host", props: map[string]string{"hdfs.url": "hdfs:///data"}, wantKey: "hdfs.url", wantMsg: "hdfs://namenode:port"},
		{name: "bad part size", props: map[string]string{"s3.bucket.name": "b", "s3.part.size": "100"}, wantKey: "s3.part.size", wantMsg: "5MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := Open(ctx, tt.props)
			var ve *config.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *config.ValidationError", err)
			}
			found := false
			for _, p := range ve.Problems {
				found = found || p.Key == tt.wantKey
			}
			if !found || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want a problem with %s mentioning %q", err, tt.wantKey, tt.wantMsg)
			}
		})
	}
}

func TestConfigDefsMerge(t *testing.T) {
	// A connector merges store.url with one store's keys: none collide, and
	// store.url is declared once.
	tests := []struct {
		name string
		def  *config.Def
		key  string
	}{
		{name: "S3 sink", def: s3store.ConfigDef(), key: "s3.bucket.name"},
		{name: "HDFS sink", def: hdfsstore.ConfigDef(), key: "hdfs.url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := ConfigDef().Merge(tt.def)
			for _, key := range []string{"store.url", tt.key} {
				if _, ok := def.Key(key); !ok {
					t.Errorf("%s missing from the merged Def", key)
				}
			}
		})
	}
}
