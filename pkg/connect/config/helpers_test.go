package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// requireEqual fails the test now if got and want differ.
func requireEqual[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
}

// requirePanic fails the test unless f panics with a message containing want.
func requirePanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic; want one containing %q", want)
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, want) {
			t.Fatalf("panic %q does not contain %q", msg, want)
		}
	}()
	f()
}

// ptr returns a pointer to s, for comparing optional strings.
func ptr(s string) *string { return &s }

// oneKey returns a Def holding k alone.
func oneKey(k Key) *Def { return NewDef().Define(k) }

// problemMessages returns the messages of a *ValidationError, failing the
// test if err is anything else.
func problemMessages(t *testing.T, err error) []string {
	t.Helper()
	ve, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	msgs := make([]string, 0, len(ve.Problems))
	for _, p := range ve.Problems {
		msgs = append(msgs, p.Message)
	}
	return msgs
}
