package avro

import (
	"encoding/hex"
	"testing"
)

// FuzzToConnectData: AvroConverter reads any bytes (the Confluent header
// with a registered or an unknown schema id, then an Avro body) to data or
// an error, never a panic. The seeds are the vectors Confluent's
// serializer wrote (testdata/vectors.json), their schemas registered.
func FuzzToConnectData(f *testing.F) {
	vs := loadVectors(f)
	c := newConverter(f, seededRegistry(f, vs).URL())
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
