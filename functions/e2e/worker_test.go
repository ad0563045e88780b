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
	coord := start(t, "coordinator", b.coordinator, append(pullCoordinatorEnv(k, "https://"+addr, "sluice-e2e-mtls"),
		"SLUICE_REST_TLS_CERT_FILE="+certFile, "SLUICE_REST_TLS_KEY_FILE="+keyFile,
		"SLUICE_REST_TLS_CLIENT_CA_FILE="+clientCAFile,
		"SLUICE_WORKER_SECRET_FILE="+secret)...)
	intruder := start(t, "worker without a certificate", b.sourcePoll, append(functionEnv(k.Brokers),
		"SLUICE_COORDINATOR_URL=https://"+addr, "SLUICE_COORDINATOR_TLS_CA_FILE="+caFile,
		"SLUICE_WORKER_SECRET_FILE="+secret, "SLUICE_POLL_WAIT=2s", "SLUICE_WORKER_ID=intruder")...)

	// The operator's REST calls need a client certificate too.
	operator := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: serverCA.Pool(), Certificates: []tls.Certificate{clientCA.KeyPair(t, "operator", x509.ExtKeyUsageClientAuth)}}}}
	createDatagen(t, operator, "https://"+addr, coord, "mtls")

	// The intruder is refused in the handshake, so no lease reaches it:
	// the records wait for the real worker.
	waitRefused(t, k, intruder, "certificate required", "mtls")
	start(t, "worker", b.sourcePoll, append(functionEnv(k.Brokers),
		"SLUICE_COORDINATOR_URL=https://"+addr, "SLUICE_COORDINATOR_TLS_CA_FILE="+caFile,
		"SLUICE_COORDINATOR_TLS_CERT_FILE="+workerCert, "SLUICE_COORDINATOR_TLS_KEY_FILE="+workerKey,
		"SLUICE_WORKER_SECRET_FILE="+secret, "SLUICE_POLL_WAIT=2s", "SLUICE_WORKER_ID=w-mtls")...)
	waitDatagenDone(t, k, intruder, "mtls")
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
	coord := start(t, "coordinator", b.coordinator, append(pullCoordinatorEnv(k, "http://"+addr, "sluice-e2e-sm"), aws...)...)
	intruder := start(t, "worker with another secret", b.sourcePoll, append(functionEnv(k.Brokers),
		"SLUICE_COORDINATOR_URL=http://"+addr, "SLUICE_WORKER_SECRET_FILE="+wrong,
		"SLUICE_POLL_WAIT=2s", "SLUICE_WORKER_ID=intruder")...)
	createDatagen(t, http.DefaultClient, "http://"+addr, coord, "sm")
	waitRefused(t, k, intruder, "401", "sm")
	w := start(t, "worker", b.sourcePoll, append(append(functionEnv(k.Brokers), aws...),
		"SLUICE_COORDINATOR_URL=http://"+addr, "SLUICE_POLL_WAIT=2s", "SLUICE_WORKER_ID=w-sm")...)
	waitDatagenDone(t, k, intruder, "sm")
	for _, p := range []*process{coord, w, intruder} {
		if strings.Contains(p.Stderr.String(), secret) {
			t.Errorf("the secret is in a log")
		}
	}
}

// pullCoordinatorEnv is the environment of a real coordinator listening on
// listener and leasing to pull workers, with short leases.
func pullCoordinatorEnv(k *kafkatest.Env, listener, group string) []string {
	return []string{
		"SLUICE_BOOTSTRAP_SERVERS=" + strings.Join(k.Brokers, ","),
		"SLUICE_REST_LISTENER=" + listener,
		"SLUICE_INVOKER=pull",
		"SLUICE_GROUP_ID=" + group,
		"SLUICE_OFFSET_STORAGE_PARTITIONS=5",
		"SLUICE_LEASE_TIMEOUT=20s",
		"SLUICE_LEASE_MAX_TIME=1s",
		"SLUICE_SAFETY_MARGIN=" + margin.String(),
		"SLUICE_RECONCILE_INTERVAL=200ms",
		"SLUICE_IDLE_BACKOFF_MAX=1s",
	}
}

// datagenOrders is how many records createDatagen's connector writes.
const datagenOrders = 100

// createDatagen creates connector <name>-source, a Datagen writing
// datagenOrders records to <name>-orders, through the coordinator's REST
// API at base.
func createDatagen(t *testing.T, client *http.Client, base string, coord *process, name string) {
	t.Helper()
	body := fmt.Sprintf(`{"name":"%s-source","config":{"connector.class":"Datagen","topic":"%s-orders","count":"%d","batch.size":"50","tasks.max":"1"}}`,
		name, name, datagenOrders)
	proctest.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
		if coord.Exited() {
			t.Fatalf("the coordinator exited:\n%s", coord.Stderr.String())
		}
		resp, err := client.Post(base+"/connectors", "application/json", strings.NewReader(body))
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
}

// waitRefused waits until the intruder's log shows two polls refused with
// reason, and checks that createDatagen's connector name has written
// nothing yet.
func waitRefused(t *testing.T, k *kafkatest.Env, intruder *process, reason, name string) {
	t.Helper()
	proctest.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
		if n := strings.Count(intruder.Stderr.String(), reason); n < 2 {
			return fmt.Errorf("%d polls of the intruding worker refused with %q", n, reason)
		}
		return nil
	})
	if s := kafkaState(t, k, name+"-orders", name+"-source"); s.records != 0 {
		t.Fatalf("%d records written before an admitted worker ran", s.records)
	}
}

// waitDatagenDone waits until createDatagen's connector name has written
// all its records and committed its offsets, and checks that the intruder
// ran no lease.
func waitDatagenDone(t *testing.T, k *kafkatest.Env, intruder *process, name string) {
	t.Helper()
	proctest.CheckFor(t, 60*time.Second, 200*time.Millisecond, func() error {
		if s := kafkaState(t, k, name+"-orders", name+"-source"); s != (state{datagenOrders, datagenOrders}) {
			return fmt.Errorf("source state %+v, want %d records and seq %d", s, datagenOrders, datagenOrders)
		}
		return nil
	})
	if log := intruder.Stderr.String(); strings.Contains(log, "lease finished") {
		t.Errorf("the intruding worker ran a lease:\n%s", proctest.LastLines(log, 20))
	}
}
