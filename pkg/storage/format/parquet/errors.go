package parquet

import "errors"

// ErrSchemaChanged is returned by Writer.Write, which then has written
// nothing, for a record whose value does not fit the file's schema: a
// schemaless record with a new field or a value of another type (see the
// package documentation), or a record whose value schema differs from the
// file's. The caller closes the file and writes the record to a new one.
var ErrSchemaChanged = errors.New("parquet: the record does not fit the file's schema")

// IsSchemaChanged reports whether err means the record needs a new file
// (ErrSchemaChanged anywhere in its chain). It fits the storage sink
// engine's Options.IsSchemaChange.
func IsSchemaChanged(err error) bool { return errors.Is(err, ErrSchemaChanged) }
