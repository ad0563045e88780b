package rest

import (
	"bufio"
	"strings"
	"testing"
)

// FuzzDecodeRequests: REST request bodies (create, config, offsets)
// decode or are a 400, never a panic.
func FuzzDecodeRequests(f *testing.F) {
	for _, s := range []string{`{"name":"a","config":{"tasks.max":1,"x":true}}`, `{"name":"a","config":{},"initial_state":"paused"}`,
		`{"offsets":[{"partition":{"k":"v"},"offset":{"o":1}}]}`, `{"a":null}`, `[]`, `{"config":{"a":{"b":1}}}`, `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeCreateRequest(b)
		_, _ = decodeConfig(b, true)
		_, _ = decodeStrings(b)
		_, _ = decodeOffsets(b)
	})
}

// FuzzCredentials: any credentials file parses or fails; a parsed entry
// has a name, a secret and a role.
func FuzzCredentials(f *testing.F) {
	f.Add(credentialsFile)
	f.Add("a=b,readonly,admin\n")
	f.Add(":x\n")
	f.Fuzz(func(t *testing.T, s string) {
		creds, err := parseCredentials(bufio.NewScanner(strings.NewReader(s)))
		if err != nil {
			return
		}
		for _, c := range creds {
			if c.name == "" || c.secret == "" || (c.role != RoleAdmin && c.role != RoleReadOnly) {
				t.Fatalf("parsed %+v from %q", c, s)
			}
		}
	})
}
