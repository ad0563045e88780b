package transforms

import (
	"github.com/sluicehq/sluice/pkg/connect"
	"github.com/sluicehq/sluice/pkg/connect/config"
	"github.com/sluicehq/sluice/pkg/connect/converter"
	"github.com/sluicehq/sluice/pkg/connect/data"
)

// insertHeaderConfig is InsertHeader's ConfigDef.
func insertHeaderConfig() *config.Def {
	return config.NewDef().
		Define(config.Key{Name: "header", Type: config.String, Default: config.NoDefault,
			Validator: config.NonNullValidator{}, Importance: config.High, Doc: "The name of the header."}).
		Define(config.Key{Name: "value.literal", Type: config.String, Default: config.NoDefault,
			Validator: config.NonNullValidator{}, Importance: config.High,
			Doc: "The literal value that is to be set as the header value on all records."})
}

// InsertHeader is Connect's InsertHeader: it adds a header named header to
// every record, its schema and value inferred from value.literal as
// Connect's Values.parseString does ("42" is an INT8, "true" a BOOLEAN,
// "[1,2]" an ARRAY, anything else a STRING). A configured InsertHeader is
// safe for concurrent use.
type InsertHeader struct {
	header string
	schema *data.Schema
	value  any
}

var _ connect.Transformation = (*InsertHeader)(nil)

// NewInsertHeader returns an unconfigured InsertHeader.
func NewInsertHeader() *InsertHeader { return &InsertHeader{} }

// Config returns the transformation's configuration keys.
func (t *InsertHeader) Config() *config.Def { return insertHeaderConfig() }

// Configure reads header and value.literal.
func (t *InsertHeader) Configure(props map[string]string) error {
	vals, err := t.Config().Parse(props)
	if err != nil {
		return err
	}
	t.header = vals.String("header")
	t.schema, t.value = converter.ParseString(vals.String("value.literal"))
	return nil
}

// Apply adds the header.
func (t *InsertHeader) Apply(r *connect.TransformRecord) (bool, error) {
	h := r.Headers.Clone()
	h.Add(t.header, t.schema, t.value)
	r.Headers = h
	return true, nil
}

// Close does nothing.
func (t *InsertHeader) Close() error { return nil }
