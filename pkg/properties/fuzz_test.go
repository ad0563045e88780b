package properties

import (
	"strings"
	"testing"
)

// FuzzLoad: any properties file parses or fails with an error, never a
// panic.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{"a=b\n", "a: b\\\n  c\n", "# c\n! d\nkey value\n", `k=\u00e9\t\n`, "k=\\u12", "=\n:\n \\\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Load(strings.NewReader(s))
	})
}
