package avro

import "github.com/sluicehq/sluice/pkg/connect/data"

// Encoder writes Connect values of one schema as Avro binary datums, with
// the Avro schema that AvroData derives from the Connect schema: what
// Confluent's AvroFormat writes into Avro container files. An Encoder is
// not safe for concurrent use.
type Encoder struct {
	text string
	node *node
	w    writer
}

// NewEncoder compiles the Avro schema of s. connectMetaData adds the
// connect.* properties to it (Confluent's connect.meta.data, default
// true).
func NewEncoder(s *data.Schema, connectMetaData bool) (*Encoder, error) {
	o := &options{connectMetaData: connectMetaData}
	text, err := o.fromConnectSchema(s)
	if err != nil {
		return nil, err
	}
	as, err := parse(text)
	if err != nil {
		return nil, dataErrorf("the Avro schema of %s does not parse: %v", s, err)
	}
	n, err := o.toConnect(as, 0)
	if err != nil {
		return nil, err
	}
	return &Encoder{text: text, node: n}, nil
}

// Schema returns the Avro schema as JSON text.
func (e *Encoder) Schema() string { return e.text }

// Encode returns the Avro binary encoding of v, valid until the next call.
// A value that does not fit is a *data.Error and leaves no trace.
func (e *Encoder) Encode(v any) ([]byte, error) {
	e.w.b = e.w.b[:0]
	if err := e.node.write(&e.w, v); err != nil {
		return nil, err
	}
	return e.w.b, nil
}
