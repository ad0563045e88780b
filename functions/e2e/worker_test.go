package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/invoke"
	"github.com/sluicehq/sluice/internal/kafkatest"
	"github.com/sluicehq/sluice/internal/mototest"
	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/internal/tlstest"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// pullServer serves the coordinator's worker endpoints from an
// invoke.Pull, counting polls. The endpoints want the workers' shared
// secret; secretEnv gives it to a worker (SLUICE_WORKER_SECRET_FILE).
func pullServer(t *testing.T) (pull *invoke.Pull, srv *httptest.Server, polls *atomic.Int64, secretEnv string) {
	pull = invoke.NewPull()
	pull.Secret = "e2e-worker-secret-0123456789"
	file := filepath.Join(t.TempDir(), "worker-secret")
	if err := os.WriteFile(file, []byte(pull.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretEnv = "SLUICE_WORKER_SECRET_FILE=" + file
	polls = new(atomic.Int64)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == invoke.PollPath {
			polls.Add(1)
		}
		pull.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return pull, srv, polls, secretEnv
}

// The built source-poll binary as a long-lived worker: it pulls a
// rate-limited datagen lease, and SIGTERM in the middle of it makes the
// worker finish the lease, commit, report it and exit 0. What it reports
// is what is in Kafka: the topic's records and the committed offsets.
func TestWorkerFinishesLeaseOnSIGTERM(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	k := kafkatest.Start(t, 1)
	pull, srv, _, secretEnv := pullServer(t)
	w := start(t, "source-poll worker", b.sourcePoll, append(functionEnv(k.Brokers), secretEnv,
		"SLUICE_COORDINATOR_URL="+srv.URL, "SLUICE_POLL_WAIT=2s", "SLUICE_WORKER_ID=w1")...)

	// Without the signal this lease would run for 30 s.
	l := datagenLease("ticks-1", "ticks", "ticks", 1, -1, 50,
		lease.Budget{MaxTime: lease.Duration(30 * time.Second), MaxIdle: lease.Duration(30 * time.Second)}, time.Now().Add(40*time.Second))
	type answer struct {
		res lease.Result
		err error
	}
	answers := make(chan answer, 1)
	go func() {
		res, err := pull.Invoke(context.Background(), l)
		answers <- answer{res, err}
	}()
	proctest.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		if !strings.Contains(w.Stderr.String(), `"msg":"worker pulling leases"`) {
			return context.DeadlineExceeded
		}
		return nil
	})
	time.Sleep(1500 * time.Millisecond) // the lease produces meanwhile
	signalled := time.Now()
	if err := w.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var a answer
	select {
	case a = <-answers:
	case <-time.After(15 * time.Second):
		t.Fatal("no result within 15 s of SIGTERM")
	}
	if err := w.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("worker exited with %v, want 0", err)
	}
	exited := time.Now()
	res := a.res
	if a.err != nil || res.Status != lease.Succeeded || res.Records == 0 || res.Records >= 50*30 {
		t.Fatalf("result %+v, %v", res, a.err)
	}
	if res.Finished.Sub(signalled) > 3*time.Second {
		t.Fatalf("the lease ended %s after SIGTERM: it did not wrap up", res.Finished.Sub(signalled))
	}
	if s := kafkaState(t, k, "ticks", "ticks"); s != (state{res.Records, res.Records}) {
		t.Fatalf("reported %d records; Kafka holds %+v", res.Records, s)
	}
	if len(res.SourceOffsets) != 1 || res.SourceOffsets[0].Offset["seq"] != float64(res.Records) {
		t.Fatalf("reported source offsets %+v for %d records", res.SourceOffsets, res.Records)
	}
	t.Logf("SIGTERM after %s of work: lease wrapped up with %d records in %s; worker exited 0 %s after the signal",
		signalled.Sub(res.Started).Round(time.Millisecond), res.Records, res.Finished.Sub(signalled).Round(time.Millisecond),
		exited.Sub(signalled).Round(time.Millisecond))
}

// A worker waiting for a lease stops at once on SIGTERM and exits 0.
func TestIdleWorkerStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	k := kafkatest.Start(t, 1)
	_, srv, polls, secretEnv := pullServer(t)
	w := start(t, "sink-batch worker", b.sinkBatch, append(functionEnv(k.Brokers), secretEnv,
		"SLUICE_COORDINATOR_URL="+srv.URL, "SLUICE_POLL_WAIT=20s", "SLUICE_CONCURRENCY=2")...)
	proctest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if polls.Load() < 2 {
			return context.DeadlineExceeded
		}
		return nil
	})
	signalled := time.Now()
	if err := w.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := w.Wait(t, 5*time.Second); err != nil {
		t.Fatalf("worker exited with %v, want 0", err)
	}
	if d := time.Since(signalled); d > 2*time.Second {
		t.Fatalf("idle worker took %s to stop", d)
	}
}

// The real coordinator with SLUICE_INVOKER=pull serving HTTPS and
// requiring client certificates (SLUICE_REST_TLS_CLIENT_CA_FILE, mTLS):
// a source-poll worker with the CA and its certificate
// (SLUICE_COORDINATOR_TLS_*) pulls and runs the datagen connector's
// leases; one with the shared secret but no certificate is refused in the
// handshake and runs nothing.
func TestWorkerPullsOverMTLS(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	k := kafkatest.Start(t, 1)
	dir := t.TempDir()
	serverCA, clientCA := tlstest.NewCA(t, "coordinator CA"), tlstest.NewCA(t, "clients CA")
	certFile, keyFile := serverCA.IssueFiles(t, dir, "coordinator", x509.ExtKeyUsageServerAuth)
	caFile := tlstest.WriteFile(t, dir, "coordinator-ca.pem", serverCA.PEM)
	clientCAFile := tlstest.WriteFile(t, dir, "clients-ca.pem", clientCA.PEM)
	workerCert, workerKey := clientCA.IssueFiles(t, dir, "worker", x509.ExtKeyUsageClientAuth)
	secret := filepath.Join(dir, "worker-secret")
	if err := os.WriteFile(secret, []byte("e2e-worker-secret-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	addr := proctest.FreeAddr(t)
	coord := start(t, "coordinator", b.coordinator,
		"SLUICE_BOOTSTRAP_SERVERS="+strings.Join(k.Brokers, ","),
		"SLUICE_REST_LISTENER=https://"+addr,
		"SLUICE_REST_TLS_CERT_FILE="+certFile, "SLUICE_REST_TLS_KEY_FILE="+keyFile,
		"SLUICE_REST_TLS_CLIENT_CA_FILE="+clientCAFile,
		"SLUICE_WORKER_SECRET_FILE="+secret,
		"SLUICE_INVOKER=pull",
		"SLUICE_GROUP_ID=sluice-e2e-mtls",
		"SLUICE_OFFSET_STORAGE_PARTITIONS=5",
		"SLUICE_LEASE_TIMEOUT=20s",
		"SLUICE_LEASE_MAX_TIME=1s",
		"SLUICE_SAFETY_MARGIN="+margin.String(),
		"SLUICE_RECONCILE_INTERVAL=200ms",
		"SLUICE_IDLE_BACKOFF_MAX=1s",
	)
	intruder := start(t, "worker without a certificate", b.sourcePoll, append(functionEnv(k.Brokers),
		"SLUICE_COORDINATOR_URL=https://"+addr, "SLUICE_COORDINATOR_TLS_CA_FILE="+caFile,
		"SLUICE_WORKER_SECRET_FILE="+secret, "SLUICE_POLL_WAIT=2s", "SLUICE_WORKER_ID=intruder")...)

	// The operator's REST calls need a client certificate too.
	operator := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: serverCA.Pool(), Certificates: []tls.Certificate{clientCA.KeyPair(t, "operator", x509.ExtKeyUsageClientAuth)}}}}
	const orders = 100
	body := `{"name":"mtls-source","config":{"connector.class":"Datagen","topic":"mtls-orders","count":"100","batch.size":"50","tasks.max":"1"}}`
	proctest.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
		if coord.Exited() {
			t.Fatalf("the coordinator exited:\n%s", coord.Stderr.String())
		}
		resp, err := operator.Post("https://"+addr+"/connectors", "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("POST /connectors: %d %s", resp.StatusCode, b)
		}
		return nil
	})

	// The intruder is refused in the handshake, so no lease reaches it:
	// the records wait for the real worker.
	proctest.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
		if n := strings.Count(intruder.Stderr.String(), "certificate required"); n < 2 {
			return fmt.Errorf("%d refused polls of the worker without a certificate", n)
		}
		return nil
	})
	if s := kafkaState(t, k, "mtls-orders", "mtls-source"); s.records != 0 {
		t.Fatalf("%d records written before a worker with a certificate ran", s.records)
	}
	start(t, "worker", b.sourcePoll, append(functionEnv(k.Brokers),
		"SLUICE_COORDINATOR_URL=https://"+addr, "SLUICE_COORDINATOR_TLS_CA_FILE="+caFile,
		"SLUICE_COORDINATOR_TLS_CERT_FILE="+workerCert, "SLUICE_COORDINATOR_TLS_KEY_FILE="+workerKey,
		"SLUICE_WORKER_SECRET_FILE="+secret, "SLUICE_POLL_WAIT=2s", "SLUICE_WORKER_ID=w-mtls")...)
	proctest.CheckFor(t, 60*time.Second, 200*time.Millisecond, func() error {
		if s := kafkaState(t, k, "mtls-orders", "mtls-source"); s != (state{orders, orders}) {
			return fmt.Errorf("source state %+v, want %d records and seq %d", s, orders, orders)
		}
		return nil
	})
	if log := intruder.Stderr.String(); strings.Contains(log, "lease finished") {
		t.Errorf("the worker without a certificate ran a lease:\n%s", proctest.LastLines(log, 20))
	}
}

// The real coordinator with SLUICE_INVOKER=pull and a source-poll worker
// both read the workers' shared secret from AWS Secrets Manager
// (SLUICE_WORKER_SECRET_ARN, a JSON key of the secret), served by moto, an
// AWS implementation Sluice did not write: the worker pulls and runs the
// datagen connector's leases, while one with another secret is refused
// (401) and runs nothing.
func TestWorkerSecretFromSecretsManager(t *testing.T) {
	t.Parallel()
	b := binaries(t)
	k := kafkatest.Start(t, 1)
	m := mototest.Start(t)
	const secret = "e2e-worker-secret-from-sm-0123456789"
	arn := m.CreateSecret("sluice/e2e-workers", `{"worker":"`+secret+`","other":"x"}`)
	aws := []string{
		"AWS_ACCESS_KEY_ID=AKIDE2E", "AWS_SECRET_ACCESS_KEY=e2e-secret-key", "AWS_REGION=" + m.Region,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"SLUICE_WORKER_SECRET_ARN=" + arn, "SLUICE_WORKER_SECRET_KEY=worker", "SLUICE_WORKER_SECRET_ENDPOINT=" + m.Endpoint,
	}
	wrong := filepath.Join(t.TempDir(), "wrong-secret")
	if err := os.WriteFile(wrong, []byte("not-the-workers-secret-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	addr := proctest.FreeAddr(t)
	coord := start(t, "coordinator", b.coordinator, append([]string{
		"SLUICE_BOOTSTRAP_SERVERS=" + strings.Join(k.Brokers, ","),
		"SLUICE_REST_LISTENER=http://" + addr,
		"SLUICE_INVOKER=pull",
		"SLUICE_GROUP_ID=sluice-e2e-sm",
		"SLUICE_OFFSET_STORAGE_PARTITIONS=5",
		"SLUICE_LEASE_TIMEOUT=20s",
		"SLUICE_LEASE_MAX_TIME=1s",
		"SLUICE_SAFETY_MARGIN=" + margin.String(),
		"SLUICE_RECONCILE_INTERVAL=200ms",
		"SLUICE_IDLE_BACKOFF_MAX=1s",
	}, aws...)...)
	intruder := start(t, "worker with another secret", b.sourcePoll, append(functionEnv(k.Brokers),
		"SLUICE_COORDINATOR_URL=http://"+addr, "SLUICE_WORKER_SECRET_FILE="+wrong,
		"SLUICE_POLL_WAIT=2s", "SLUICE_WORKER_ID=intruder")...)

	const orders = 100
	body := `{"name":"sm-source","config":{"connector.class":"Datagen","topic":"sm-orders","count":"100","batch.size":"50","tasks.max":"1"}}`
	proctest.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
		if coord.Exited() {
			t.Fatalf("the coordinator exited:\n%s", coord.Stderr.String())
		}
		resp, err := http.Post("http://"+addr+"/connectors", "application/json", strings.NewReader(body))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("POST /connectors: %d %s", resp.StatusCode, b)
		}
		return nil
	})
	proctest.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
		if n := strings.Count(intruder.Stderr.String(), "401"); n < 2 {
			return fmt.Errorf("%d refused polls of the worker with another secret", n)
		}
		return nil
	})
	if s := kafkaState(t, k, "sm-orders", "sm-source"); s.records != 0 {
		t.Fatalf("%d records written before a worker with the secret ran", s.records)
	}
	w := start(t, "worker", b.sourcePoll, append(append(functionEnv(k.Brokers), aws...),
		"SLUICE_COORDINATOR_URL=http://"+addr, "SLUICE_POLL_WAIT=2s", "SLUICE_WORKER_ID=w-sm")...)
	proctest.CheckFor(t, 60*time.Second, 200*time.Millisecond, func() error {
		if w.Exited() {
			t.Fatalf("the worker exited:\n%s", w.Stderr.String())
		}
		if s := kafkaState(t, k, "sm-orders", "sm-source"); s != (state{orders, orders}) {
			return fmt.Errorf("source state %+v, want %d records and seq %d", s, orders, orders)
		}
		return nil
	})
	for _, p := range []*process{coord, w, intruder} {
		if strings.Contains(p.Stderr.String(), secret) {
			t.Errorf("the secret is in a log")
		}
	}
	if log := intruder.Stderr.String(); strings.Contains(log, "lease finished") {
		t.Errorf("the worker with another secret ran a lease:\n%s", proctest.LastLines(log, 20))
	}
}
