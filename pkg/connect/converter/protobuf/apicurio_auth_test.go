//go:build apicurio

package protobuf

import (
	"testing"

	"github.com/sluicehq/sluice/internal/apicuriotest"
	"github.com/sluicehq/sluice/internal/srtest"
	"github.com/sluicehq/sluice/pkg/schemaregistry"
)

// TestApicurioAuth runs the round trips of TestApicurioRoundTrips against
// a real registry that enforces authentication (Apicurio 2.4.2 behind
// Quarkus's basic and bearer authentication, make test-registry), with
// credentials from basic.auth.credentials.source USER_INFO and URL, a
// bearer token, and a schema.registry.url whose first registry is down;
// and checks that missing or wrong credentials fail writing and reading at
// once, as a record-level error naming the registry and HTTP 401.
func TestApicurioAuth(t *testing.T) {
	reg := apicuriotest.SharedAuth(t)
	vs, golden := setup(t)
	apicuriotest.AuthRoundTrips(t, reg, New, golden, vs, func(v vector) (string, string) { return v.Name, v.Hex },
		schemaregistry.ErrUnauthorized, srtest.ClientRequests)
}
