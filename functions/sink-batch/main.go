// Command sink-batch runs Sluice sink leases: fetch exactly the leased range,
// convert, Put, flush, commit. Under AWS Lambda it serves one lease per
// invocation. See --help.
package main

import (
	"fmt"
	"os"

	"github.com/sluicehq/sluice/functions/internal/runner"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

func main() {
	if err := runner.Main("sink-batch", lease.KindSink, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sink-batch:", err)
		os.Exit(1)
	}
}
