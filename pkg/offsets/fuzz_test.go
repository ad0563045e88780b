package offsets

import (
	"reflect"
	"testing"
)

// FuzzCodec: offsets-topic keys and values from any producer decode or
// fail cleanly, and what decodes encodes and decodes to the same.
func FuzzCodec(f *testing.F) {
	f.Add([]byte(`["conn",{"filename":"/tmp/x"}]`), []byte(`{"position":42}`))
	f.Add([]byte(`["c",{"a":1.5,"b":[1,2]}]`), []byte(`{"o":"x","n":null}`))
	f.Add([]byte(`[]`), []byte(`null`))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		if c, p, err := DecodeKey(key); err == nil {
			k2, err := EncodeKey(c, p)
			if err != nil {
				t.Fatalf("EncodeKey of a decoded key %q: %v", key, err)
			}
			c2, p2, err := DecodeKey(k2)
			if err != nil || c2 != c || !reflect.DeepEqual(p2, p) {
				t.Fatalf("key %q: round trip %q gives %q %v, %v", key, k2, c2, p2, err)
			}
		}
		if o, err := DecodeValue(value); err == nil && o != nil {
			v2, err := EncodeValue(o)
			if err != nil {
				t.Fatalf("EncodeValue of a decoded value %q: %v", value, err)
			}
			if o2, err := DecodeValue(v2); err != nil || !reflect.DeepEqual(o2, o) {
				t.Fatalf("value %q: round trip %q gives %v, %v", value, v2, o2, err)
			}
		}
	})
}
