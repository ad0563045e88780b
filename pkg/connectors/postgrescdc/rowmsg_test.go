package postgrescdc

import (
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/jackc/pglogrepl"

	"github.com/sluicehq/sluice/pkg/debezium"
)

// column kinds of a test tuple: a text, nil for null, toast for an
// unchanged TOAST value.
var toast = new(string)

func tupleOf(b []byte, cols ...*string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(cols)))
	for _, c := range cols {
		switch c {
		case nil:
			b = append(b, 'n')
		case toast:
			b = append(b, 'u')
		default:
			b = append(b, 't')
			b = binary.BigEndian.AppendUint32(b, uint32(len(*c)))
			b = append(b, *c...)
		}
	}
	return b
}

func str(s string) *string { return &s }

// wantTuple is what the decoder must make of a pglogrepl tuple.
func wantTuple(td *pglogrepl.TupleData) []tupleValue {
	if td == nil {
		return nil
	}
	out := make([]tupleValue, len(td.Columns))
	for i, c := range td.Columns {
		switch c.DataType {
		case pglogrepl.TupleDataTypeNull:
			out[i].null = true
		case pglogrepl.TupleDataTypeToast:
			out[i].toasted = true
		default:
			out[i].text = string(c.Data)
		}
	}
	return out
}

// TestParseRowMessage checks the hot-path decoder against pglogrepl's on
// every shape of Insert, Update and Delete message.
func TestParseRowMessage(t *testing.T) {
	rel := binary.BigEndian.AppendUint32(nil, 16385)
	msg := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	row := func(cols ...*string) []byte { return tupleOf(nil, cols...) }
	tests := []struct {
		name string
		msg  []byte
		op   debezium.Op
	}{
		{name: "insert", msg: msg([]byte("I"), rel, []byte("N"), row(str("1"), str("héllo"), nil, str(""))), op: debezium.OpCreate},
		{name: "update", msg: msg([]byte("U"), rel, []byte("N"), row(str("1"), toast, str("x"))), op: debezium.OpUpdate},
		{name: "update with old row", msg: msg([]byte("U"), rel, []byte("O"), row(str("1"), str("a"), nil), []byte("N"), row(str("1"), str("b"), nil)), op: debezium.OpUpdate},
		{name: "update with old key", msg: msg([]byte("U"), rel, []byte("K"), row(str("1"), nil, nil), []byte("N"), row(str("2"), str("b"), toast)), op: debezium.OpUpdate},
		{name: "delete of key", msg: msg([]byte("D"), rel, []byte("K"), row(str("7"), nil)), op: debezium.OpDelete},
		{name: "delete of row", msg: msg([]byte("D"), rel, []byte("O"), row(str("7"), str("z"))), op: debezium.OpDelete},
	}
	// One buffer for all the messages, as a stream's: each message's
	// columns overwrite the last one's.
	buf := new([2][]tupleValue)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRowMessage(tc.msg, buf)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := pglogrepl.Parse(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			var want rowMessage
			switch m := ref.(type) {
			case *pglogrepl.InsertMessage:
				want = rowMessage{op: debezium.OpCreate, relation: m.RelationID, new: wantTuple(m.Tuple)}
			case *pglogrepl.UpdateMessage:
				want = rowMessage{op: debezium.OpUpdate, relation: m.RelationID, old: wantTuple(m.OldTuple), new: wantTuple(m.NewTuple)}
			case *pglogrepl.DeleteMessage:
				want = rowMessage{op: debezium.OpDelete, relation: m.RelationID, old: wantTuple(m.OldTuple)}
			}
			if want.op != tc.op || !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v (op %s)", got, want, tc.op)
			}
		})
	}
}

// TestParseRowMessageTruncated checks that every cut of a message is an
// error, not a panic or a short row.
func TestParseRowMessageTruncated(t *testing.T) {
	full := append(append([]byte("U"), binary.BigEndian.AppendUint32(nil, 1)...), 'O')
	full = append(tupleOf(full, str("1"), str("abc")), 'N')
	full = tupleOf(full, str("1"), str("abcd"))
	for n := range len(full) {
		if _, err := parseRowMessage(full[:n], new([2][]tupleValue)); err == nil {
			t.Errorf("%d of %d bytes: no error", n, len(full))
		}
	}
	if _, err := parseRowMessage(full, new([2][]tupleValue)); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		msg  []byte
	}{
		{name: "insert with old tuple", msg: tupleOf(append([]byte("I\x00\x00\x00\x01"), 'K'), str("1"))},
		{name: "delete without old tuple", msg: tupleOf(append([]byte("D\x00\x00\x00\x01"), 'N'), str("1"))},
		{name: "unknown column kind", msg: []byte("I\x00\x00\x00\x01N\x00\x01x")},
	}
	for _, tc := range bad {
		if _, err := parseRowMessage(tc.msg, new([2][]tupleValue)); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
