package s3test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// client is what both servers offer.
type client interface {
	Client() *s3.Client
}

func TestServers(t *testing.T) {
	tests := []struct {
		name  string
		start func(t *testing.T) (client, string)
	}{
		{name: "versitygw", start: func(t *testing.T) (client, string) { s := Start(t); return s, s.Bucket }},
		{name: "gofakes3", start: func(t *testing.T) (client, string) { f := StartFake(t); return f, f.Bucket }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, bucket := tt.start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			putGet(ctx, t, srv.Client(), bucket, "a/b.txt", "hello")
		})
	}
}

func TestRestartKeepsData(t *testing.T) {
	s := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	putGet(ctx, t, s.Client(), s.Bucket, "k", "before")
	s.Stop()
	if _, err := s.Client().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.Bucket)}); err == nil {
		t.Fatal("HeadBucket succeeded against a stopped server")
	}
	s.Restart()
	got := get(ctx, t, s.Client(), s.Bucket, "k")
	if got != "before" {
		t.Fatalf("after restart got %q, want %q", got, "before")
	}
	if cl := strings.Join(s.CommandLine(), " "); !strings.Contains(cl, "posix") {
		t.Fatalf("command line %q lacks the posix backend", cl)
	}
}

func putGet(ctx context.Context, t *testing.T, c *s3.Client, bucket, key, body string) {
	t.Helper()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader([]byte(body))}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if got := get(ctx, t, c, bucket, key); got != body {
		t.Fatalf("GetObject = %q, want %q", got, body)
	}
}

func get(ctx context.Context, t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("reading object: %v", err)
	}
	return string(b)
}
