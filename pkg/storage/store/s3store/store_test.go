package s3store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/sluicehq/sluice/internal/s3test"
	"github.com/sluicehq/sluice/pkg/storage"
	"github.com/sluicehq/sluice/pkg/storage/store/storetest"
)

// testServer is what the tests need from versitygw and gofakes3 alike.
type testServer interface {
	Props() map[string]string
	NewBucket(tb testing.TB) string
	Client() *s3.Client
}

func servers() []struct {
	name  string
	start func(t *testing.T) testServer
} {
	return []struct {
		name  string
		start func(t *testing.T) testServer
	}{
		{name: "versitygw", start: func(t *testing.T) testServer { return s3test.Start(t) }},
		{name: "gofakes3", start: func(t *testing.T) testServer { return s3test.StartFake(t) }},
	}
}

// openStore opens a Store on srv's bucket (or on bucket, when set) with
// the 5 MiB minimum part size, a short backoff and props overriding.
func openStore(t *testing.T, srv testServer, bucket string, override map[string]string) *Store {
	t.Helper()
	props := srv.Props()
	if bucket != "" {
		props[BucketConfig] = bucket
	}
	props[PartSizeConfig] = "5242880"
	props[RetryBackoffConfig] = "10"
	maps.Copy(props, override)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, props)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestContract(t *testing.T) {
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			server := srv.start(t)
			storetest.Run(t, func(t *testing.T) storage.Store {
				return openStore(t, server, server.NewBucket(t), nil)
			})
		})
	}
}

// pattern returns n bytes that differ from part to part, so that a part
// written twice or out of order shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/MinPartSize)
	}
	return b
}

func TestPartBoundaries(t *testing.T) {
	const part = MinPartSize
	tests := []struct {
		name  string
		size  int
		parts int // 0: a single PutObject
	}{
		{name: "one byte short of a part", size: part - 1},
		{name: "exactly one part", size: part},
		{name: "one byte over a part", size: part + 1, parts: 2},
		{name: "exactly two parts", size: 2 * part, parts: 2},
		{name: "three parts and a bit", size: 3*part + 17, parts: 4},
	}
	for _, srv := range servers() {
		t.Run(srv.name, func(t *testing.T) {
			server := srv.start(t)
			s := openStore(t, server, "", nil)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ctx := testCtx(t)
					key := "boundaries/" + strings.ReplaceAll(tt.name, " ", "-")
					data := pattern(tt.size)
					cw, err := s.Create(ctx, key)
					if err != nil {
						t.Fatal(err)
					}
					w := cw.(*Writer)
					// Odd-sized writes cross part boundaries mid-write.
					for rest := data; len(rest) > 0; {
						n := min(len(rest), 1<<20+3)
						if _, err := w.Write(rest[:n]); err != nil {
							t.Fatalf("Write: %v", err)
						}
						rest = rest[n:]
					}
					if got := w.buf.Len(); got > part || got == 0 {
						t.Errorf("%d bytes buffered, want 1 to the part size %d", got, part)
					}
					if got, want := len(w.buf.chunks)*chunkSize, min(tt.size, part)+chunkSize-1; got > want {
						t.Errorf("buffer holds %d bytes of chunks for %d bytes, want at most %d", got, tt.size, want)
					}
					uploaded := len(w.parts)
					if err := w.Commit(ctx); err != nil {
						t.Fatalf("Commit: %v", err)
					}
					if tt.parts == 0 && uploaded != 0 {
						t.Errorf("%d parts uploaded before Commit, want a single PutObject", uploaded)
					}
					if tt.parts > 0 && uploaded != tt.parts-1 {
						t.Errorf("%d parts uploaded before Commit, want %d", uploaded, tt.parts-1)
					}
					storetest.Expect(ctx, t, s, key, data)
					head, err := server.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.Bucket()), Key: aws.String(key)})
					if err != nil {
						t.Fatalf("HeadObject: %v", err)
					}
					if got := aws.ToInt64(head.ContentLength); got != int64(tt.size) {
						t.Errorf("ContentLength = %d, want %d", got, tt.size)
					}
				})
			}
		})
	}
}

func TestAbortLeavesNoUpload(t *testing.T) {
	tests := []struct {
		name string
		size int
	}{
		{name: "buffered only", size: 100},
		{name: "two parts uploaded", size: 2*MinPartSize + 5},
	}
	server := s3test.Start(t)
	s := openStore(t, server, "", nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			w, err := s.Create(ctx, "aborted/"+tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(pattern(tt.size)); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if err := w.Abort(ctx); err != nil {
				t.Fatalf("Abort: %v", err)
			}
			storetest.ExpectKeys(ctx, t, s, "", nil)
			expectNoUploads(ctx, t, server.Client(), s.Bucket())
		})
	}
}

func expectNoUploads(ctx context.Context, t *testing.T, c *s3.Client, bucket string) {
	t.Helper()
	out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	if len(out.Uploads) != 0 {
		t.Fatalf("%d multipart uploads pending, want none (first: %s)", len(out.Uploads), aws.ToString(out.Uploads[0].Key))
	}
}

func TestAuthAndBucketErrors(t *testing.T) {
	server := s3test.Start(t)
	tests := []struct {
		name     string
		override map[string]string
		size     int
		want     error
		code     string // in the message, when not want's own
	}{
		{name: "wrong secret, small object", override: map[string]string{SecretAccessKeyConfig: "not-the-secret"}, size: 10, want: ErrSignatureDoesNotMatch},
		{name: "wrong secret, multipart", override: map[string]string{SecretAccessKeyConfig: "not-the-secret"}, size: MinPartSize + 1, want: ErrSignatureDoesNotMatch},
		{name: "unknown access key", override: map[string]string{AccessKeyIDConfig: "AKIANOSUCHKEY"}, size: 10, want: ErrInvalidAccessKeyID, code: "XAdminUserNotFound"},
		{name: "missing bucket, small object", override: map[string]string{BucketConfig: "no-such-bucket"}, size: 10, want: ErrNoSuchBucket},
		{name: "missing bucket, multipart", override: map[string]string{BucketConfig: "no-such-bucket"}, size: MinPartSize + 1, want: ErrNoSuchBucket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			s := openStore(t, server, "", tt.override)
			err := putErr(ctx, s, "errs/obj", pattern(tt.size))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err %T is not an *Error", err)
			}
			msg := err.Error()
			code := tt.code
			if code == "" {
				code = tt.want.Error()
			}
			for _, part := range []string{code, "s3://" + s.Bucket() + "/errs/obj"} {
				if !strings.Contains(msg, part) {
					t.Errorf("message %q does not mention %q", msg, part)
				}
			}
			if IsRetriable(err) {
				t.Errorf("IsRetriable(%v) = true, want false", err)
			}
		})
	}
}

// putErr writes data to key and commits, returning the first error.
func putErr(ctx context.Context, s storage.Store, key string, data []byte) error {
	w, err := s.Create(ctx, key)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		_ = w.Abort(ctx)
		return err
	}
	return w.Commit(ctx)
}

func TestServerStoppedMidUpload(t *testing.T) {
	tests := []struct {
		name string
		// before writes before the server stops, after once it is down.
		before, after int
	}{
		{name: "during a part upload", before: MinPartSize + 1, after: MinPartSize},
		{name: "during complete", before: MinPartSize + 1, after: 10},
		{name: "during a single put", before: 10, after: 0},
	}
	server := s3test.Start(t)
	s := openStore(t, server, "", map[string]string{PartRetriesConfig: "1"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			key := "stopped/" + strings.ReplaceAll(tt.name, " ", "-")
			data := pattern(tt.before + tt.after)
			w, err := s.Create(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data[:tt.before]); err != nil {
				t.Fatalf("Write before stop: %v", err)
			}
			server.Stop()
			_, err = w.Write(data[tt.before:])
			if err == nil {
				err = w.Commit(ctx)
			}
			if err == nil {
				t.Fatal("write to a stopped server succeeded")
			}
			if !IsRetriable(err) {
				t.Errorf("IsRetriable(%v) = false, want true", err)
			}
			if !strings.Contains(err.Error(), key) {
				t.Errorf("error %q does not name the key", err)
			}
			_ = w.Abort(ctx)
			server.Restart()
			storetest.ExpectKeys(ctx, t, s, key, nil)
			if _, err := s.Open(ctx, key); err == nil {
				t.Fatal("half-written object is readable after restart")
			}
			storetest.Put(ctx, t, s, key, data)
			storetest.Expect(ctx, t, s, key, data)
		})
	}
}

func TestPathStyle(t *testing.T) {
	tests := []struct {
		name      string
		pathStyle string
	}{
		{name: "default is path style", pathStyle: ""},
		{name: "explicitly enabled", pathStyle: "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backend := s3mem.New()
			if err := backend.CreateBucket("pathstyle"); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var paths []string
			handler := gofakes3.New(backend).Server()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				paths = append(paths, r.Host+" "+r.URL.Path)
				mu.Unlock()
				handler.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			props := map[string]string{
				"store.url": srv.URL, BucketConfig: "pathstyle", RegionConfig: "us-east-1",
				AccessKeyIDConfig: "a", SecretAccessKeyConfig: "b",
			}
			if tt.pathStyle != "" {
				props[PathStyleConfig] = tt.pathStyle
			}
			ctx := testCtx(t)
			s, err := Open(ctx, props)
			if err != nil {
				t.Fatal(err)
			}
			storetest.Put(ctx, t, s, "x/y", []byte("z"))
			mu.Lock()
			defer mu.Unlock()
			host := strings.TrimPrefix(srv.URL, "http://")
			for _, p := range paths {
				if p != host+" /pathstyle/x/y" {
					t.Errorf("request %q is not path style (want %q)", p, host+" /pathstyle/x/y")
				}
			}
			if len(paths) == 0 {
				t.Fatal("no request seen")
			}
		})
	}
}

func TestWriteAllocatesNothing(t *testing.T) {
	server := s3test.StartFake(t)
	s := openStore(t, server, "", nil)
	ctx := testCtx(t)
	cw, err := s.Create(ctx, "allocs")
	if err != nil {
		t.Fatal(err)
	}
	w := cw.(*Writer)
	chunk := make([]byte, 1000)
	_, _ = w.Write(chunk) // takes the buffer
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Write allocates %v times per call, want 0", allocs)
	}
	if err := w.Abort(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOpenReadsWhatWasWritten(t *testing.T) {
	server := s3test.StartFake(t)
	s := openStore(t, server, "", nil)
	ctx := testCtx(t)
	storetest.Put(ctx, t, s, "r", []byte("abc"))
	r, err := s.Open(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil || buf.String() != "abc" {
		t.Fatalf("read %q, %v", buf.String(), err)
	}
}
