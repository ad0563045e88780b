//go:build sluice.testhooks

package jdbc

import (
	"os"
	"syscall"
)

// afterDBCommit kills the process when KillAfterDBCommitEnv=1 (see
// testhook.go). It never returns then: SIGKILL cannot be caught.
func afterDBCommit() {
	if os.Getenv(KillAfterDBCommitEnv) != "1" {
		return
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}
