package coordinator

import "errors"

// ErrExists reports a connector name that is already in use.
var ErrExists = errors.New("connector already exists")
