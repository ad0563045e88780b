package schemaregistry

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/sr"
)

// MagicByte is the first byte of every value in Confluent's wire format.
const MagicByte = 0

// HeaderSize is the size of the magic byte and the schema id.
const HeaderSize = 5

// AppendHeader appends the magic byte and id to b.
func AppendHeader(b []byte, id int) []byte {
	b = append(b, MagicByte)
	return binary.BigEndian.AppendUint32(b, uint32(id))
}

// Decode splits a value in Confluent's wire format into its schema id and
// payload. A value that does not start with the magic byte is
// ErrUnknownMagicByte; one shorter than the header ErrTooShort.
func Decode(b []byte) (id int, payload []byte, err error) {
	if len(b) < HeaderSize {
		if len(b) > 0 && b[0] != MagicByte {
			return 0, nil, ErrUnknownMagicByte
		}
		return 0, nil, ErrTooShort
	}
	if b[0] != MagicByte {
		return 0, nil, ErrUnknownMagicByte
	}
	return int(binary.BigEndian.Uint32(b[1:5])), b[5:], nil
}

// AppendMessageIndexes appends Protobuf's message indexes (the path of the
// message in its file) as Confluent writes them: the count and each index
// as zig-zag varints, and [0] (the first message) as a single 0.
func AppendMessageIndexes(b []byte, indexes []int) []byte {
	var h sr.ConfluentHeader
	// ConfluentHeader.AppendEncode writes magic byte, id, then the indexes.
	out, _ := h.AppendEncode(nil, 0, normalizeIndexes(indexes))
	return append(b, out[HeaderSize:]...)
}

func normalizeIndexes(indexes []int) []int {
	if len(indexes) == 0 {
		return []int{0}
	}
	return indexes
}

// DecodeMessageIndexes reads Protobuf's message indexes from the start of
// a payload (after the 5-byte header) and returns them and the rest.
func DecodeMessageIndexes(b []byte) ([]int, []byte, error) {
	n, size := binary.Varint(b)
	if size <= 0 {
		return nil, nil, fmt.Errorf("invalid message indexes")
	}
	b = b[size:]
	if n == 0 {
		return []int{0}, b, nil
	}
	if n < 0 || n > math.MaxInt16 || int(n) > len(b) {
		return nil, nil, fmt.Errorf("invalid message index count %d", n)
	}
	idx := make([]int, n)
	for i := range idx {
		v, size := binary.Varint(b)
		if size <= 0 || v < 0 {
			return nil, nil, fmt.Errorf("invalid message index")
		}
		idx[i], b = int(v), b[size:]
	}
	return idx, b, nil
}
