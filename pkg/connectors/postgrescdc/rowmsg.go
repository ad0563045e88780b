package postgrescdc

import (
	"encoding/binary"
	"fmt"

	"github.com/sluicehq/sluice/pkg/debezium"
)

// rowMessage is a pgoutput Insert, Update or Delete message (protocol
// version 1). parseRowMessage decodes it in place of pglogrepl.Parse, which
// allocates a message, a tuple, and a column and a copy of its bytes for
// every column: here the message is copied once into a string and every
// column's text is a substring of it. Change messages are nearly all of a
// stream, so this is the streaming hot path.
type rowMessage struct {
	op       debezium.Op // OpCreate, OpUpdate or OpDelete
	relation uint32
	// old is the old row (REPLICA IDENTITY FULL) or its key columns
	// (DEFAULT, when the key changed), nil when the message has none; new
	// is the new row, nil for a delete.
	old, new []tupleValue
}

// isRowMessage reports whether a pgoutput message is an Insert, Update or
// Delete.
func isRowMessage(b []byte) bool {
	return len(b) > 0 && (b[0] == 'I' || b[0] == 'U' || b[0] == 'D')
}

// parseRowMessage decodes an Insert ('I' relid 'N' tuple), Update ('U'
// relid ['K'|'O' tuple] 'N' tuple) or Delete ('D' relid 'K'|'O' tuple).
// The tuples' columns go into buf's two slices when they are large enough
// (the previous message's, which its caller is done with), so that a
// stream of changes does not allocate them per message.
func parseRowMessage(b []byte, buf *[2][]tupleValue) (rowMessage, error) {
	var m rowMessage
	if len(b) < 6 {
		return m, fmt.Errorf("pgoutput %q message of %d bytes is too short", b[:min(len(b), 1)], len(b))
	}
	switch b[0] {
	case 'I':
		m.op = debezium.OpCreate
	case 'U':
		m.op = debezium.OpUpdate
	case 'D':
		m.op = debezium.OpDelete
	default:
		return m, fmt.Errorf("pgoutput message %q is not a row change", b[0])
	}
	m.relation = binary.BigEndian.Uint32(b[1:5])
	s := string(b) // the one copy: column texts are substrings of it
	p := 5
	var err error
	if kind := s[p]; kind == 'K' || kind == 'O' {
		if m.op == debezium.OpCreate {
			return m, fmt.Errorf("pgoutput insert message with an old tuple (%q)", kind)
		}
		if m.old, p, err = parseTuple(s, p+1, &buf[0]); err != nil {
			return m, err
		}
	} else if m.op == debezium.OpDelete {
		return m, fmt.Errorf("pgoutput delete message without an old tuple (%q)", kind)
	}
	if m.op == debezium.OpDelete {
		return m, nil
	}
	if p >= len(s) || s[p] != 'N' {
		return m, fmt.Errorf("pgoutput %q message without a new tuple", b[0])
	}
	m.new, _, err = parseTuple(s, p+1, &buf[1])
	return m, err
}

// parseTuple decodes a TupleData at s[p:]: the column count (int16), then
// per column 'n' (null), 'u' (unchanged TOAST value), or 't' or 'b', a
// length (int32) and that many bytes. It returns the columns, in *buf
// (grown if need be), and the position after them.
func parseTuple(s string, p int, buf *[]tupleValue) ([]tupleValue, int, error) {
	short := func() ([]tupleValue, int, error) {
		return nil, p, fmt.Errorf("pgoutput tuple data ends early at byte %d of %d", p, len(s))
	}
	if p+2 > len(s) {
		return short()
	}
	n := int(s[p])<<8 | int(s[p+1])
	p += 2
	if *buf == nil || cap(*buf) < n {
		*buf = make([]tupleValue, n, max(n, 8))
	}
	vals := (*buf)[:n]
	clear(vals)
	for i := range vals {
		if p >= len(s) {
			return short()
		}
		kind := s[p]
		p++
		switch kind {
		case 'n':
			vals[i].null = true
		case 'u':
			vals[i].toasted = true
		case 't', 'b':
			if p+4 > len(s) {
				return short()
			}
			l := int(uint32(s[p])<<24 | uint32(s[p+1])<<16 | uint32(s[p+2])<<8 | uint32(s[p+3]))
			p += 4
			if l < 0 || p+l > len(s) {
				return short()
			}
			vals[i].text = s[p : p+l]
			p += l
		default:
			return nil, p, fmt.Errorf("pgoutput tuple column %d has unknown kind %q", i, kind)
		}
	}
	return vals, p, nil
}
