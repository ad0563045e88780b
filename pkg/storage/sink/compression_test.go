package sink

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"
)

// A compressionStream writes its parts in order through the compression, writes the
// trailer once on Close without closing the target, and refuses writes
// after Close.
func TestCompressionStream(t *testing.T) {
	for _, c := range []CompressionSettings{{Type: CompressionNone}, {Type: CompressionGzip, Level: gzip.BestSpeed}} {
		t.Run(string(c.Type), func(t *testing.T) {
			var buf bytes.Buffer
			s, err := c.NewStream(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Write([]byte("a"), []byte("\n")); err != nil {
				t.Fatal(err)
			}
			if err := s.Write([]byte("b"), []byte("\n")); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if err := s.Write([]byte("c")); !errors.Is(err, errCompressionClosed) {
				t.Fatalf("Write after Close: %v, want ErrClosed", err)
			}
			got := buf.Bytes()
			if c.Type == CompressionGzip {
				zr, err := gzip.NewReader(&buf)
				if err != nil {
					t.Fatal(err)
				}
				if got, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if string(got) != "a\nb\n" {
				t.Fatalf("content %q, want %q", got, "a\nb\n")
			}
		})
	}
	if _, err := (CompressionSettings{Type: "zstd"}).NewStream(io.Discard); err == nil {
		t.Fatal("unsupported type accepted")
	}
}
