package offsets

import "errors"

// ErrInvalidKey reports key bytes that are not a Connect offset key, a JSON
// array of exactly a connector name and a source-partition object.
var ErrInvalidKey = errors.New("offsets: invalid offset key")

// ErrInvalidValue reports value bytes that are not a JSON object.
var ErrInvalidValue = errors.New("offsets: invalid offset value")
