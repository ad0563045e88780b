package runner

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/sluicehq/sluice/internal/env"
	"github.com/sluicehq/sluice/pkg/connect/lease"
	"github.com/sluicehq/sluice/pkg/plugins"
)

// FuzzInvokePayload: any invocation payload gets an answer in Lambda's
// error shape with one of the function's error types, never a panic. The
// invocation's deadline has passed, so a lease that passes every check is
// refused as expired before the (nil) executor; other payloads go to an
// Events handler that refuses them.
func FuzzInvokePayload(f *testing.F) {
	deadline := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
	for _, s := range []string{
		`{"id":"l1","kind":"source","connector":"c","deadline":"` + deadline + `","connector_config":{"connector.class":"Datagen","topic":"t"},"task_config":{}}`,
		`{"id":"l2","kind":"sink","connector":"s","epoch":3,"deadline":"` + deadline + `","connector_config":{"connector.class":"FileStreamSink","topics":"t","file":"/tmp/x"},` +
			`"ranges":[{"topic":"t","partition":0,"start":0,"end":10}],"budget":{"max_records":5,"max_time":"1s"}}`,
		`{"kind":"source","connector":"c","epoch":"one"}`,
		`{"connector":"s3","until":"now"}`,
		`{"eventSource":"aws:kafka","records":{}}`,
		`{"detail-type":"Scheduled Event","source":"aws.events"}`,
		`[1,2]`, `null`, `{"id":`, ``,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	registry := plugins.Registry()
	errorTypes := map[string]bool{ErrorTypeMalformedPayload: true, ErrorTypeUnknownEvent: true, ErrorTypeBadLease: true,
		ErrorTypeLeaseExpired: true, ErrorTypeEventFailed: true}
	f.Fuzz(func(t *testing.T, payload []byte, sink bool) {
		kind := lease.KindSource
		if sink {
			kind = lease.KindSink
		}
		h := &Handler{Kind: kind, Deps: Deps{Config: Config{Executor: env.Executor{SafetyMargin: time.Second}}, Plugins: registry},
			Events: func(context.Context, Deps, json.RawMessage) (any, error) { return nil, ErrUnknownEvent }}
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		out, err := h.Invoke(ctx, payload)
		var le messages.InvokeResponse_Error
		if !errors.As(err, &le) {
			t.Fatalf("Invoke(%q) = %s, %v; want a Lambda error", payload, out, err)
		}
		if !errorTypes[le.Type] || le.Message == "" {
			t.Fatalf("Invoke(%q): error type %q message %q", payload, le.Type, le.Message)
		}
	})
}
