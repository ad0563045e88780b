package protobuf

import (
	"encoding/hex"
	"testing"
)

// FuzzToConnectData: ProtobufConverter reads any bytes (the Confluent header
// with a registered or an unknown schema id, then the body) to data or an
// error, never a panic. The seeds are the vectors Confluent's serializer
// wrote (testdata/vectors.json), their schemas registered.
func FuzzToConnectData(f *testing.F) {
	vs, c := setup(f)
	for _, v := range vs {
		b, err := hex.DecodeString(v.Hex)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = c.ToConnectData("fuzz", b)
	})
}
