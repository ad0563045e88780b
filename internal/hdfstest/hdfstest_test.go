//go:build hdfs

package hdfstest

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestClusterAnswers(t *testing.T) {
	c := Shared(t, Mode{})
	if len(c.Namenodes) != 1 {
		t.Fatalf("namenodes %v, want one", c.Namenodes)
	}
	c.MustDo(t, "mkdir /hdfstest/a")
	if !c.Exists(t, "/hdfstest/a") {
		t.Fatal("/hdfstest/a does not exist after mkdir")
	}
	if c.Exists(t, "/hdfstest/missing") {
		t.Fatal("/hdfstest/missing exists")
	}
	if _, err := c.Do("no-such-command"); err == nil {
		t.Fatal("an unknown command was accepted")
	}
}
