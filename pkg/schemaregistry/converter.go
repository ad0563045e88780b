package schemaregistry

import (
	"context"
	"errors"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// ConverterError turns a registry failure into a converter's error: a
// retriable one when the registry is unavailable (the lease fails and is
// re-issued, nothing committed), a record-level data.Error otherwise (an
// unknown id, an incompatible schema), which errors.tolerance may send to
// the dead letter queue.
func ConverterError(msg string, err error) error {
	de := &data.Error{Msg: msg + ": " + err.Error()}
	if IsRetriable(err) {
		return connect.Retriable(errors.Join(de, err))
	}
	return errors.Join(de, err)
}

// WriterID resolves the id a serializer writes rs with under subject, as
// Confluent's serializers do: use.schema.id when set, else the subject's
// latest version (use.latest.version), else registering rs
// (auto.register.schemas), else looking it up. what names the schema in
// errors ("JSON schema", "Protobuf schema").
func (s SerdeSettings) WriterID(ctx context.Context, c *Client, subject string, rs Schema, what string) (int, error) {
	switch {
	case s.UseSchemaID >= 0:
		return s.UseSchemaID, nil
	case s.UseLatestVersion:
		ss, err := c.Latest(ctx, subject)
		if err != nil {
			return 0, ConverterError("subject "+subject, err)
		}
		return ss.ID, nil
	case s.AutoRegister:
		id, err := c.Register(ctx, subject, rs, s.Normalize)
		if err != nil {
			return 0, ConverterError("registering the "+what+" under subject "+subject, err)
		}
		return id, nil
	default:
		ss, err := c.Lookup(ctx, subject, rs, s.Normalize)
		if err != nil {
			return 0, ConverterError("looking up the "+what+" under subject "+subject, err)
		}
		return ss.ID, nil
	}
}
