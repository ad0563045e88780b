package env

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	smSecret     = "worker-secret-from-sm-0123456789"
	smJSONSecret = "worker-secret-json-key-987654321"
	fileSecret   = "worker-secret-from-file-abcdefgh"
)

// fakeSecretsManager is a local stand-in of AWS Secrets Manager: it
// answers GetSecretValue over the AWS JSON 1.1 protocol (POST /,
// X-Amz-Target: secretsmanager.GetSecretValue), with the response and error
// shapes of the Secrets Manager API reference, and records the SecretIds
// it was asked for.
type fakeSecretsManager struct {
	t       *testing.T
	secrets map[string]string // SecretId -> SecretString

	mu  sync.Mutex
	ids []string
}

func newFakeSecretsManager(t *testing.T) (*fakeSecretsManager, string) {
	t.Helper()
	f := &fakeSecretsManager{t: t, secrets: map[string]string{
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:sluice/worker-AbCdEf": smSecret + "\n",
		"sluice/worker-json": `{"secret":"` + smJSONSecret + `","other":"x"}`,
		"sluice/short":       "tooshort",
	}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeSecretsManager) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		http.Error(w, "unexpected request", http.StatusBadRequest)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDFAKE/") {
		f.t.Errorf("request not signed with the static credentials: %q", r.Header.Get("Authorization"))
	}
	var in struct{ SecretId string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		f.t.Errorf("decoding request: %v", err)
	}
	f.mu.Lock()
	f.ids = append(f.ids, in.SecretId)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	s, ok := f.secrets[in.SecretId]
	if !ok {
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "ResourceNotFoundException", "message": "Secrets Manager can't find the specified secret."})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ARN": in.SecretId, "Name": in.SecretId, "SecretString": s,
		"VersionId": "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1", "VersionStages": []string{"AWSCURRENT"}, "CreatedDate": 1.523477145713e9})
}

// isolateAWS gives the SDK's default chain static credentials, a region
// and no shared files, so the test never reaches a real account.
func isolateAWS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-key")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
}

func TestWorkerAuthSecret(t *testing.T) {
	isolateAWS(t)
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte(fileSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:sluice/worker-AbCdEf"
	tests := []struct {
		name    string
		auth    WorkerAuth // WorkerSecretEndpoint is set to the fake's
		want    string
		wantErr []string
		asked   []string // SecretIds the fake must have been asked for
	}{
		{name: "nothing set", want: ""},
		{name: "file", auth: WorkerAuth{WorkerSecretFile: file}, want: fileSecret},
		{name: "ARN, whole SecretString", auth: WorkerAuth{WorkerSecretARN: arn}, want: smSecret, asked: []string{arn}},
		{name: "name with JSON key", auth: WorkerAuth{WorkerSecretARN: "sluice/worker-json", WorkerSecretKey: "secret"}, want: smJSONSecret, asked: []string{"sluice/worker-json"}},
		{
			name:    "file and ARN both set",
			auth:    WorkerAuth{WorkerSecretFile: file, WorkerSecretARN: arn},
			wantErr: []string{"SLUICE_WORKER_SECRET_FILE", "SLUICE_WORKER_SECRET_ARN", "not both"},
		},
		{
			name:    "missing secret",
			auth:    WorkerAuth{WorkerSecretARN: "sluice/nope"},
			wantErr: []string{"SLUICE_WORKER_SECRET_ARN", `"sluice/nope"`, "ResourceNotFoundException"},
			asked:   []string{"sluice/nope"},
		},
		{
			name:    "missing JSON key",
			auth:    WorkerAuth{WorkerSecretARN: "sluice/worker-json", WorkerSecretKey: "nope"},
			wantErr: []string{`key "nope"`},
			asked:   []string{"sluice/worker-json"},
		},
		{
			name:    "too short",
			auth:    WorkerAuth{WorkerSecretARN: "sluice/short"},
			wantErr: []string{"secret sluice/short", "shorter than 16"},
			asked:   []string{"sluice/short"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, endpoint := newFakeSecretsManager(t)
			a := tt.auth
			if a.WorkerSecretARN != "" {
				a.WorkerSecretEndpoint = endpoint
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := a.Secret(ctx)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Secret = %q, want an error", got)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				for _, v := range []string{smSecret, smJSONSecret, fileSecret, "tooshort"} {
					if strings.Contains(err.Error(), v) {
						t.Errorf("error %q contains a secret value", err)
					}
				}
			} else {
				if err != nil {
					t.Fatalf("Secret: %v", err)
				}
				if got != tt.want {
					t.Errorf("Secret = %q, want %q", got, tt.want)
				}
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if strings.Join(f.ids, ",") != strings.Join(tt.asked, ",") {
				t.Errorf("Secrets Manager was asked for %q, want %q", f.ids, tt.asked)
			}
		})
	}
}
