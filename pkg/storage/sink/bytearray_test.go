package sink

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect"
)

func TestByteArrayFormat(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]string
		ext   string
		want  string
	}{
		// Each value's bytes then the separator ("\n" by default); a null
		// value is an empty one.
		{name: "default", ext: ".bin", want: "one\n\x00\xff\n\ntwo\nlines\n"},
		{name: "separator kept as given", props: map[string]string{ByteArraySeparatorConfig: " | ", ByteArrayExtensionConfig: ".txt"}, ext: ".txt",
			want: "one | \x00\xff |  | two\nlines | "},
		{name: "empty separator", props: map[string]string{ByteArraySeparatorConfig: ""}, ext: ".bin", want: "one\x00\xfftwo\nlines"},
		{name: "gzip", props: map[string]string{"s3.compression.type": "gzip"}, ext: ".bin.gz", want: "one\n\x00\xff\n\ntwo\nlines\n"},
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
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
