package sink

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
)

func TestByteArrayGolden(t *testing.T) {
	tests := []struct {
		name   string
		props  map[string]string
		ext    string
		golden string
	}{
		{name: "default", ext: ".bin", golden: "default.bin"},
		{name: "separator kept as given", props: map[string]string{ByteArraySeparatorConfig: " | ", ByteArrayExtensionConfig: ".txt"}, ext: ".txt", golden: "separator.txt"},
		{name: "empty separator", props: map[string]string{ByteArraySeparatorConfig: ""}, ext: ".bin", golden: "empty.bin"},
		{name: "gzip", props: map[string]string{"s3.compression.type": "gzip"}, ext: ".bin.gz", golden: "default.bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewByteArrayFormat(tt.props)
			if err != nil {
				t.Fatal(err)
			}
			if f.Extension() != tt.ext {
				t.Errorf("Extension() = %q, want %q", f.Extension(), tt.ext)
			}
			var buf bytes.Buffer
			w, err := f.NewWriter(&buf, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []any{[]byte("one"), []byte{0, 0xff}, nil, []byte("two\nlines")} {
				var r connect.SinkRecord
				r.Value = v
				if err := w.Write(&r); err != nil {
					t.Fatal(err)
				}
			}
			var r connect.SinkRecord
			r.Value = "not bytes"
			if err := w.Write(&r); err == nil {
				t.Error("Write of a string succeeded")
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			if tt.ext == ".bin.gz" {
				zr, err := gzip.NewReader(bytes.NewReader(got))
				if err != nil {
					t.Fatal(err)
				}
				if got, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join("testdata", "bytearray", tt.golden)
			if os.Getenv("UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
