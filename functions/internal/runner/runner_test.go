package runner

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pkg/connect/lease"
)

func TestHelp(t *testing.T) {
	var out strings.Builder
	if err := Main("sink-batch", lease.KindSink, []string{"--help"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"Usage: sink-batch", "SLUICE_BOOTSTRAP_SERVERS", "SLUICE_OFFSET_STORAGE_TOPIC", "SLUICE_SAFETY_MARGIN"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("--help does not mention %s:\n%s", v, out.String())
		}
	}
}

func TestMainOutsideLambdaFailsClearly(t *testing.T) {
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	t.Setenv("SLUICE_BOOTSTRAP_SERVERS", "127.0.0.1:1")
	err := Main("source-poll", lease.KindSource, nil, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "not running under AWS Lambda") {
		t.Fatalf("err = %v", err)
	}
	t.Setenv("SLUICE_BOOTSTRAP_SERVERS", "")
	os.Unsetenv("SLUICE_BOOTSTRAP_SERVERS") // restored by t.Setenv's cleanup
	if err := Main("source-poll", lease.KindSource, nil, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "BOOTSTRAP_SERVERS") {
		t.Fatalf("missing bootstrap servers: err = %v", err)
	}
}

func TestHandlerRejectsLeaseOfOtherKind(t *testing.T) {
	h := Handler{Kind: lease.KindSink}
	_, err := h.Handle(context.Background(), lease.Lease{ID: "x", Kind: lease.KindSource})
	if !errors.Is(err, lease.ErrBadLease) {
		t.Fatalf("err = %v, want ErrBadLease", err)
	}
}
