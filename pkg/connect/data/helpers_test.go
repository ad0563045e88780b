package data

import (
	"errors"
	"testing"
)

// wantDataError fails t unless err is a *Error with the given Field and
// Msg; an empty msg means no error is wanted.
func wantDataError(t *testing.T, err error, field, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("error = %v, want none", err)
		}
		return
	}
	var de *Error
	if !errors.As(err, &de) {
		t.Fatalf("error = %v (%T), want *Error %q", err, err, msg)
	}
	if de.Msg != msg || de.Field != field {
		t.Fatalf("error = {Field: %q, Msg: %q}, want {Field: %q, Msg: %q}", de.Field, de.Msg, field, msg)
	}
}

// wantErrText fails t unless err's text is want; an empty want means no error.
func wantErrText(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("error = %v, want none", err)
	case want != "" && err == nil:
		t.Fatalf("error = nil, want %q", want)
	case want != "" && err.Error() != want:
		t.Fatalf("error = %q, want %q", err.Error(), want)
	}
}

// mustBuild builds b or fails t.
func mustBuild(t *testing.T, b *SchemaBuilder) *Schema {
	t.Helper()
	s, err := b.Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return s
}

func version(v int32) *int32 { return &v }
