package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// The Lambda invoker's client retries an Invoke that Lambda refused
// (throttling), and never one whose function may have run: a dropped
// connection or a 5xx is one attempt, so the coordinator waits out the
// lease instead of the SDK running it a second time.
func TestLambdaClientRetriesOnlyRefusals(t *testing.T) {
	tests := []struct {
		name      string
		answer    func(w http.ResponseWriter, attempt int64) // attempt counts from 1
		wantCalls int64
		wantErr   bool
	}{
		{name: "connection dropped after the request", wantCalls: 1, wantErr: true, answer: func(w http.ResponseWriter, _ int64) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}},
		{name: "service error", wantCalls: 1, wantErr: true, answer: func(w http.ResponseWriter, _ int64) {
			lambdaError(w, http.StatusInternalServerError, "ServiceException")
		}},
		{name: "bad gateway", wantCalls: 1, wantErr: true, answer: func(w http.ResponseWriter, _ int64) {
			w.WriteHeader(http.StatusBadGateway)
		}},
		{name: "throttled twice, then run", wantCalls: 3, answer: func(w http.ResponseWriter, attempt int64) {
			if attempt < 3 {
				lambdaError(w, http.StatusTooManyRequests, "TooManyRequestsException")
				return
			}
			w.Header().Set("X-Amz-Executed-Version", "$LATEST")
			w.Write([]byte(`{"status":"succeeded"}`))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tt.answer(w, calls.Add(1))
			}))
			defer srv.Close()
			cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")}
			c := lambdaClient(cfg, srv.URL)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("sink-batch"), Payload: []byte(`{}`)})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Invoke error %v, want error %t", err, tt.wantErr)
			}
			if n := calls.Load(); n != tt.wantCalls {
				t.Fatalf("%d attempts, want %d (last error %v)", n, tt.wantCalls, err)
			}
		})
	}
}

func lambdaError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	w.Write([]byte(`{"Type":"User","message":"` + code + `"}`))
}
