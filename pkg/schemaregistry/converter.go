package schemaregistry

import (
	"context"
	"errors"

	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// ConverterError turns a registry failure into a converter's error: a
// retriable one when the registry is unavailable (the lease fails and is
// re-issued, nothing committed), an intolerable one when it refuses the
// credentials (401, 403: the lease fails, not retriably, nothing committed
// and nothing dead-lettered, whatever errors.tolerance says, since every
// record would fail alike), a record-level data.Error otherwise (an unknown
// id, an incompatible schema), which errors.tolerance may send to the dead
// letter queue.
func ConverterError(msg string, err error) error {
	ce := &converterError{de: &data.Error{Msg: msg + ": " + err.Error()}, cause: err}
	switch {
	case IsRetriable(err):
		return connect.Retriable(ce)
	case errors.Is(err, ErrUnauthorized):
		return connect.Intolerable(ce)
	}
	return ce
}

// converterError is a *data.Error that also wraps the registry's error
// (errors.Is finds its sentinels), whose text it already holds, so that
// the cause is written once.
type converterError struct {
	de    *data.Error
	cause error
}

func (e *converterError) Error() string   { return e.de.Error() }
func (e *converterError) Unwrap() []error { return []error{e.de, e.cause} }

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

// ReaderSchema returns the schema of id that a deserializer of topic met,
// with its version under the subject the strategy names (0 when it is not
// registered there). TopicNameStrategy names the subject without the
// schema, so one listing of the subject answers for all its schemas
// (Client.SchemaInSubject). The record strategies name the subject from
// the schema: nameOf returns the full name of the record that id
// describes ("" when it has none); its error is returned as it is.
func (s SerdeSettings) ReaderSchema(ctx context.Context, c *Client, topic string, isKey bool, id int, nameOf func(Schema) (string, error)) (Schema, int, error) {
	if s.Strategy == TopicName {
		subject, _ := s.Strategy.Subject(topic, isKey, "")
		ss, err := c.SchemaInSubject(ctx, subject, id)
		return ss.Schema, ss.Version, err
	}
	sc, err := c.SchemaByID(ctx, id)
	if err != nil {
		return Schema{}, 0, err
	}
	name, err := nameOf(sc)
	if err != nil {
		return Schema{}, 0, err
	}
	subject, err := s.Strategy.Subject(topic, isKey, name)
	if err != nil {
		return sc, 0, nil // no named record: no version
	}
	ss, err := c.Lookup(ctx, subject, sc, false)
	switch {
	case err == nil:
		return sc, ss.Version, nil
	case IsRetriable(err):
		return Schema{}, 0, err
	}
	return sc, 0, nil // registered under another subject: no version here
}
