//go:build !sluice.testhooks

package jdbc

// afterDBCommit is the crash hook of the process tests (testhook.go),
// compiled out of every other build.
func afterDBCommit() {}
