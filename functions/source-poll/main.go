// Command source-poll runs Sluice source leases: restore offsets, Poll,
// convert, produce, commit. Under AWS Lambda it serves one lease per
// invocation; elsewhere it is a long-lived worker pulling leases from the
// coordinator. See --help.
package main

import (
	"fmt"
	"os"

	"github.com/sluicehq/sluice/functions/internal/runner"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/plugins/sources"
)

func main() {
	fn := runner.Function{Name: "source-poll", Kind: lease.KindSource, Plugins: sources.Plugins}
	if err := runner.Main(fn, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "source-poll:", err)
		os.Exit(1)
	}
}
