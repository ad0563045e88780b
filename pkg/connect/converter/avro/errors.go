package avro

import (
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/pkg/connect/data"
)

// Conversion failures are *data.Error (Connect's DataException), so
// that errors.tolerance and the dead letter queue handle them per record
// (stage VALUE_CONVERTER or KEY_CONVERTER): a wrong magic byte, an unknown
// schema id, a payload that does not match its schema, a value that does
// not fit. A registry that cannot be reached is different: the error is
// also connect.Retriable, so that the lease fails and is retried rather
// than the record being skipped.

func dataErrorf(format string, args ...any) error {
	return &data.Error{Msg: fmt.Sprintf(format, args...)}
}

func mismatch(n *node, v any) error {
	return dataErrorf("Invalid Java object for schema type %s: %T", upper(n.connect.Type), v)
}

func fieldError(name string, err error) error {
	var de *data.Error
	if errors.As(err, &de) {
		f := name
		if de.Field != "" {
			f = name + "." + de.Field
		}
		return &data.Error{Field: f, Msg: de.Msg}
	}
	return err
}

func upper(t data.Type) string {
	b := []byte(t)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func joinErrors(errs []error) error { return errors.Join(errs...) }
