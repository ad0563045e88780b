package awslambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/sluicehq/sluice/coordinator/invoke/awslambda"
	"github.com/sluicehq/sluice/internal/leasetest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// lambdaEndpoint implements Lambda's Invoke API
// (POST /2015-03-31/functions/{name}/invocations) with handlers per function.
func lambdaEndpoint(t *testing.T, functions map[string]func([]byte) ([]byte, string)) *lambda.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
		name, ok2 := strings.CutSuffix(name, "/invocations")
		if r.Method != http.MethodPost || !ok || !ok2 {
			http.Error(w, "bad path", http.StatusBadRequest)
			return
		}
		if r.Header.Get("X-Amz-Invocation-Type") != "RequestResponse" {
			http.Error(w, "want RequestResponse", http.StatusBadRequest)
			return
		}
		fn, found := functions[name]
		if !found {
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"Type":"User","message":"Function not found: `+name+`"}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		out, fnErr := fn(body)
		if fnErr != "" {
			w.Header().Set("X-Amz-Function-Error", fnErr)
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return lambda.New(lambda.Options{
		Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
}

func TestLambdaInvoker(t *testing.T) {
	exec := leasetest.Executor(t)
	client := lambdaEndpoint(t, map[string]func([]byte) ([]byte, string){
		"source-poll": func(payload []byte) ([]byte, string) {
			var l lease.Lease
			if err := json.Unmarshal(payload, &l); err != nil {
				return []byte(`{"errorMessage":"` + err.Error() + `","errorType":"UnmarshalTypeError"}`), "Unhandled"
			}
			out, _ := json.Marshal(exec.Run(context.Background(), l))
			return out, ""
		},
		"broken": func([]byte) ([]byte, string) {
			return []byte(`{"errorMessage":"bad lease: boom","errorType":"errorString","stackTrace":[]}`), "Unhandled"
		},
	})
	t.Run("a lease runs in the function", func(t *testing.T) {
		inv := &awslambda.Lambda{Client: client, SourceFunction: "source-poll", SinkFunction: "sink-batch"}
		res, err := inv.Invoke(context.Background(), leasetest.DatagenLease("l1", 50))
		if err != nil || res.Status != lease.Succeeded || res.Records != 50 || res.LeaseID != "l1" {
			t.Fatalf("res %+v err %v", res, err)
		}
	})
	t.Run("a function error comes back in Lambda's shape", func(t *testing.T) {
		inv := &awslambda.Lambda{Client: client, SourceFunction: "broken"}
		_, err := inv.Invoke(context.Background(), leasetest.DatagenLease("l2", 1))
		var fe *awslambda.FunctionError
		if !errors.As(err, &fe) || fe.Kind != "Unhandled" || fe.ErrorMessage != "bad lease: boom" || fe.ErrorType != "errorString" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("a missing function is an invocation error", func(t *testing.T) {
		inv := &awslambda.Lambda{Client: client, SourceFunction: "nope"}
		if _, err := inv.Invoke(context.Background(), leasetest.DatagenLease("l3", 1)); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("no function for the kind", func(t *testing.T) {
		inv := &awslambda.Lambda{Client: client, SourceFunction: "source-poll"}
		l := leasetest.DatagenLease("l4", 1)
		l.Kind = lease.KindSink
		if _, err := inv.Invoke(context.Background(), l); err == nil || !strings.Contains(err.Error(), "no Lambda function configured for sink") {
			t.Fatalf("err %v", err)
		}
	})
}

// The invocation payload is the lease as the coordinator built it from
// the stored configuration: config provider references go to the
// function as written, and the function resolves them with its own
// providers (SLUICE_CONFIG_PROVIDERS); no resolved value is sent.
func TestLambdaPayloadCarriesReferences(t *testing.T) {
	var got []byte
	client := lambdaEndpoint(t, map[string]func([]byte) ([]byte, string){
		"source-poll": func(payload []byte) ([]byte, string) {
			got = payload
			var l lease.Lease
			_ = json.Unmarshal(payload, &l)
			out, _ := json.Marshal(lease.Result{LeaseID: l.ID, Connector: l.Connector, Task: l.Task, Epoch: l.Epoch, Status: lease.Succeeded})
			return out, ""
		},
	})
	l := leasetest.DatagenLease("l1", 1)
	const ref = "${secretsmanager:prod/db:password}"
	l.ConnectorConfig["transforms.pw.value.literal"] = ref
	l.TaskConfig = map[string]string{"connection.password": "${env::DB_PASSWORD}"}
	inv := &awslambda.Lambda{Client: client, SourceFunction: "source-poll"}
	if _, err := inv.Invoke(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	var sent lease.Lease
	if err := json.Unmarshal(got, &sent); err != nil {
		t.Fatalf("payload %s: %v", got, err)
	}
	if sent.ConnectorConfig["transforms.pw.value.literal"] != ref || sent.TaskConfig["connection.password"] != "${env::DB_PASSWORD}" {
		t.Errorf("payload configs %v / %v, want the references as written", sent.ConnectorConfig, sent.TaskConfig)
	}
}
