package s3store

import (
	"errors"
	"io"
	"sync"
)

// chunkSize is the unit in which a part buffer grows.
const chunkSize = 1 << 20

// chunks are shared by every Store: a lease opens its own Store, and a
// pool per Store would start empty each time.
var chunks = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// partBuffer holds the bytes of the part being written in chunks from a
// shared pool, so that an object holds memory for what it has written, not
// for a whole s3.part.size: a Parquet file of a few MiB takes a few MiB.
// It is not safe for concurrent use.
type partBuffer struct {
	chunks []*[chunkSize]byte
	n      int
}

// Len returns the number of bytes buffered.
func (b *partBuffer) Len() int { return b.n }

// write appends as much of p as fits below limit bytes and returns how
// much it took.
func (b *partBuffer) write(p []byte, limit int) int {
	written := 0
	for len(p) > 0 && b.n < limit {
		i, off := b.n/chunkSize, b.n%chunkSize
		if i == len(b.chunks) {
			b.chunks = append(b.chunks, chunks.Get().(*[chunkSize]byte))
		}
		c := copy(b.chunks[i][off:min(chunkSize, off+limit-b.n)], p)
		p = p[c:]
		b.n += c
		written += c
	}
	return written
}

// reader returns a reader of the buffered bytes, valid until the next
// write, reset or release. It can seek, so that the SDK can sign the body
// and send it again when it retries.
func (b *partBuffer) reader() *partReader { return &partReader{b: b} }

// reset empties the buffer and keeps its chunks for the next part.
func (b *partBuffer) reset() { b.n = 0 }

// release empties the buffer and returns its chunks to the pool.
func (b *partBuffer) release() {
	for i, c := range b.chunks {
		chunks.Put(c)
		b.chunks[i] = nil
	}
	b.chunks, b.n = b.chunks[:0], 0
}

// partReader reads a partBuffer's bytes.
type partReader struct {
	b   *partBuffer
	off int64
}

var _ io.ReadSeeker = (*partReader)(nil)

func (r *partReader) Read(p []byte) (int, error) {
	n := 0
	for len(p) > 0 && r.off < int64(r.b.n) {
		i, off := int(r.off/chunkSize), int(r.off%chunkSize)
		end := min(chunkSize, r.b.n-i*chunkSize)
		c := copy(p, r.b.chunks[i][off:end])
		p = p[c:]
		r.off += int64(c)
		n += c
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (r *partReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += int64(r.b.n)
	default:
		return 0, errors.New("s3store: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("s3store: negative position")
	}
	r.off = offset
	return offset, nil
}
