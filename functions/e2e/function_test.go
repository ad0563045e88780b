package e2e

import (
	"testing"

	"github.com/sluicehq/sluice/internal/lambdatest"
)

// startFunction runs the function binary at path under rt, with the
// function's SLUICE_* settings.
func startFunction(t *testing.T, rt *lambdatest.Runtime, path string, env ...string) *process {
	t.Helper()
	return start(t, rt.Function(), path, append(rt.Env(), env...)...)
}
