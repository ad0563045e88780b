package s3store

import (
	"bytes"
	"io"
	"testing"
)

func TestPartBuffer(t *testing.T) {
	tests := []struct {
		name         string
		size, limit  int
		wantBuffered int
	}{
		{name: "empty", size: 0, limit: MinPartSize},
		{name: "less than a chunk", size: 100, limit: MinPartSize, wantBuffered: 100},
		{name: "exactly a chunk", size: chunkSize, limit: MinPartSize, wantBuffered: chunkSize},
		{name: "chunks and a bit", size: 2*chunkSize + 7, limit: MinPartSize, wantBuffered: 2*chunkSize + 7},
		{name: "stops at the limit", size: 3*chunkSize + 1, limit: chunkSize + 5, wantBuffered: chunkSize + 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := pattern(tt.size)
			var b partBuffer
			defer b.release()
			took := 0
			// Odd-sized writes cross chunk boundaries mid-write.
			for rest := data; len(rest) > 0; {
				c := b.write(rest[:min(len(rest), 65537)], tt.limit)
				if c == 0 {
					break
				}
				took += c
				rest = rest[c:]
			}
			if took != tt.wantBuffered || b.Len() != tt.wantBuffered {
				t.Fatalf("took %d, buffered %d, want %d", took, b.Len(), tt.wantBuffered)
			}
			if most := (tt.wantBuffered + chunkSize - 1) / chunkSize; len(b.chunks) > most {
				t.Errorf("%d chunks for %d bytes, want at most %d", len(b.chunks), tt.wantBuffered, most)
			}
			r := b.reader()
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, data[:tt.wantBuffered]) {
				t.Fatalf("read %d bytes (err %v), want the %d written", len(got), err, tt.wantBuffered)
			}
			// The SDK seeks back to sign the body and to send it again.
			if n := tt.wantBuffered; n >= 3 {
				if pos, err := r.Seek(-3, io.SeekEnd); err != nil || pos != int64(n-3) {
					t.Fatalf("Seek(-3, end) = %d, %v; want %d", pos, err, n-3)
				}
				if tail, _ := io.ReadAll(r); !bytes.Equal(tail, data[n-3:n]) {
					t.Fatalf("read %v after seeking to the end - 3, want %v", tail, data[n-3:n])
				}
			}
			if _, err := r.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			if again, _ := io.ReadAll(r); !bytes.Equal(again, got) {
				t.Fatal("a second read after seeking to the start differs")
			}
			b.reset()
			if b.Len() != 0 || b.write([]byte("x"), tt.limit) != 1 {
				t.Fatal("reset did not empty the buffer")
			}
		})
	}
}

func TestPartReaderSeekErrors(t *testing.T) {
	r := (&partBuffer{}).reader()
	if _, err := r.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek(-1, start) succeeded")
	}
	if _, err := r.Seek(0, 7); err == nil {
		t.Error("Seek with an invalid whence succeeded")
	}
}
