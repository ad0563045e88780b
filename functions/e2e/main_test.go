// Package e2e runs the function binaries as they are deployed: built with
// go build, under an emulation of the AWS Lambda Runtime API, as long-lived
// workers pulling leases over HTTP, and invoked by the real coordinator
// through an emulation of the Lambda Invoke API. Everything listens on
// loopback; every process started is killed when its test ends.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/internal/mariadbtest"
	"github.com/sluicehq/sluice/internal/pgtest"
	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/internal/realkafka"
)

// The binaries, built once per test binary by binaries.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	// The JDBC tests' database servers start on first use only.
	code := pgtest.Run(runFunc(func() int {
		return mariadbtest.Run(runFunc(func() int { return realkafka.Main(m) }))
	}))
	for _, dir := range []string{buildDir, hookedDir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// runFunc runs tests: harnesses' Run functions nest through it.
type runFunc func() int

func (f runFunc) Run() int { return f() }

// bins are the paths of the built binaries.
type bins struct {
	sourcePoll, sinkBatch, coordinator string
}

// binaries builds source-poll and sink-batch (each as a Lambda "bootstrap")
// and the coordinator, once, in parallel.
func binaries(t *testing.T) bins {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts processes; skipped with -short")
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "sluice-functions-e2e-"); buildErr != nil {
			return
		}
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i, pkg := range []string{"functions/source-poll", "functions/sink-batch", "coordinator/cmd/coordinator"} {
			wg.Go(func() {
				out := filepath.Join(buildDir, filepath.Base(pkg), "bootstrap")
				cmd := exec.Command("go", "build", "-o", out, "github.com/sluicehq/sluice/"+pkg)
				if b, err := cmd.CombinedOutput(); err != nil {
					errs[i] = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil && buildErr == nil {
				buildErr = err
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bins{
		sourcePoll:  filepath.Join(buildDir, "source-poll", "bootstrap"),
		sinkBatch:   filepath.Join(buildDir, "sink-batch", "bootstrap"),
		coordinator: filepath.Join(buildDir, "coordinator", "bootstrap"),
	}
}

// process is a function binary started by a test.
type process = proctest.Process

// start starts path with env added to a clean environment.
func start(t *testing.T, name, path string, env ...string) *process {
	t.Helper()
	return proctest.Start(t, name, path, env)
}
