package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/coordinator/invoke"
	"github.com/sluicehq/sluice/coordinator/state"
	"github.com/sluicehq/sluice/internal/proctest"
	"github.com/sluicehq/sluice/pkg/kafka"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The secret-leak checks: a connector whose configuration takes secrets
// from config providers runs on a real coordinator process, and the
// resolved values must appear only where the task puts them (here, record
// headers in the data topic), never in a REST answer, the internal topics,
// the coordinator's logs (at debug level), or a lease handed to a worker.

// leakSecret returns a fresh value no test could produce by chance.
func leakSecret(t *testing.T, what string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "leak-" + what + "-" + hex.EncodeToString(b)
}

// leakSetup writes the worker properties (file and env providers, each
// allowed one thing) and the secrets file; it returns the coordinator's
// extra environment and the three secrets: read through the file
// provider, read through the env provider, and one the env provider must
// refuse.
type leakSetup struct {
	env                           []string
	secretsFile                   string
	fileSecret, envSecret, denied string
	// outsideFile is a properties file outside the file provider's
	// allowed.paths; its password is outsideSecret.
	outsideFile, outsideSecret string
}

func newLeakSetup(t *testing.T) leakSetup {
	t.Helper()
	dir := t.TempDir()
	s := leakSetup{
		fileSecret:    leakSecret(t, "file"),
		envSecret:     leakSecret(t, "env"),
		denied:        leakSecret(t, "denied"),
		outsideSecret: leakSecret(t, "outside"),
	}
	secretsDir := filepath.Join(dir, "secrets")
	if err := os.Mkdir(secretsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	s.secretsFile = filepath.Join(secretsDir, "db.properties")
	if err := os.WriteFile(s.secretsFile, []byte("password="+s.fileSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.outsideFile = filepath.Join(dir, "outside.properties")
	if err := os.WriteFile(s.outsideFile, []byte("password="+s.outsideSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	worker := filepath.Join(dir, "worker.properties")
	if err := os.WriteFile(worker, []byte(strings.Join([]string{
		"config.providers=file,env",
		"config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider",
		"config.providers.file.param.allowed.paths=" + secretsDir,
		"config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider",
		"config.providers.env.param.allowlist.pattern=SLUICE_LEAK_.*",
		"",
	}, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	s.env = []string{
		"SLUICE_WORKER_PROPERTIES=" + worker,
		"SLUICE_LOG_LEVEL=debug",
		"SLUICE_LEAK_TOKEN=" + s.envSecret,
		"SLUICE_DENIED_TOKEN=" + s.denied,
	}
	return s
}

// connector is a Datagen source whose records get two headers, one from
// each provider; ref is put in the first header's value.literal.
func (s leakSetup) connector(topic, fileRef string) map[string]string {
	return map[string]string{
		"connector.class":                "Datagen",
		"topic":                          topic,
		"count":                          "5",
		"tasks.max":                      "1",
		"transforms":                     "pw,token",
		"transforms.pw.type":             "org.apache.kafka.connect.transforms.InsertHeader",
		"transforms.pw.header":           "pw",
		"transforms.pw.value.literal":    fileRef,
		"transforms.token.type":          "org.apache.kafka.connect.transforms.InsertHeader",
		"transforms.token.header":        "token",
		"transforms.token.value.literal": "${env::SLUICE_LEAK_TOKEN}",
	}
}

func (s leakSetup) secrets() map[string]string {
	return map[string]string{"file secret": s.fileSecret, "env secret": s.envSecret, "refused env secret": s.denied,
		"refused file secret": s.outsideSecret}
}

// checkNoSecret fails the test if any secret is in b.
func (s leakSetup) checkNoSecret(t *testing.T, where string, b []byte) {
	t.Helper()
	for what, v := range s.secrets() {
		if bytes.Contains(b, []byte(v)) {
			i := bytes.Index(b, []byte(v))
			lo, hi := max(0, i-200), min(len(b), i+len(v)+100)
			t.Errorf("the %s is in %s: …%s…", what, where, b[lo:hi])
		}
	}
}

// topicRecords reads every record of every topic on the broker, by topic,
// until each of the required topics has shown records and the broker has
// had nothing new for a second (or 30 s have passed).
func topicRecords(t *testing.T, broker string, required ...string) map[string][]*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(broker, ",")...), kgo.ConsumeRegex(), kgo.ConsumeTopics(".*"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out := map[string][]*kgo.Record{}
	deadline := time.Now().Add(30 * time.Second)
	seen := func() bool {
		for _, topic := range required {
			if len(out[topic]) == 0 {
				return false
			}
		}
		return true
	}
	for quiet := 0; (quiet < 4 || !seen()) && time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		fetches := cl.PollFetches(ctx)
		cancel()
		n := 0
		fetches.EachRecord(func(r *kgo.Record) { out[r.Topic] = append(out[r.Topic], r); n++ })
		if n == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
	return out
}

// recordBytes is everything a record carries.
func recordBytes(r *kgo.Record) []byte {
	var b bytes.Buffer
	b.Write(r.Key)
	b.WriteByte(0)
	b.Write(r.Value)
	for _, h := range r.Headers {
		b.WriteByte(0)
		b.WriteString(h.Key)
		b.WriteByte(0)
		b.Write(h.Value)
	}
	return b.Bytes()
}

func headerValue(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// A coordinator running leases in process: the task gets the resolved
// values (they are in the data topic's headers), and nothing else holds
// them: every REST answer about the connector, the internal topics
// (configs, offsets, status, leases), the debug-level logs. A reference the
// env provider's allowlist refuses fails its task with a trace naming the
// variable and the setting, not the value.
func TestResolvedSecretsNeverLeak(t *testing.T) {
	s := newLeakSetup(t)
	broker := startBroker(t)
	addr := proctest.FreeAddr(t)
	p := startProcess(t, "leak", addr, append(coordinatorEnv(broker, addr), s.env...))
	waitLeading(t, p)

	fileRef := "${file:" + s.secretsFile + ":password}"
	create := func(name string, config map[string]string) {
		t.Helper()
		mustRequest(t, http.MethodPost, p.url()+"/connectors", map[string]any{"name": name, "config": config}, http.StatusCreated)
	}
	create("secret-src", s.connector("leak-data", fileRef))
	// Submitted, a refused reference is a 400
	// (TestRefusedReferencesReportedOnSubmit); stored by a coordinator with
	// other provider settings, or before references were checked on
	// submission, it fails its task when the task runs.
	denied := s.connector("leak-denied", fileRef)
	denied["transforms.token.value.literal"] = "${env::SLUICE_DENIED_TOKEN}"
	mustRequest(t, http.MethodPost, p.url()+"/connectors", map[string]any{"name": "denied-src", "config": denied}, http.StatusBadRequest)
	storeConfig(t, broker, "denied-src", denied)

	// The task ran with the resolved values: every record of the data
	// topic carries both.
	var records map[string][]*kgo.Record
	deadline := time.Now().Add(60 * time.Second)
	for {
		records = topicRecords(t, broker, "leak-data")
		data := records["leak-data"]
		if len(data) >= 5 {
			for _, r := range data {
				if headerValue(r, "pw") != s.fileSecret || headerValue(r, "token") != s.envSecret {
					t.Fatalf("data record headers pw=%q token=%q: the task did not get the resolved values", headerValue(r, "pw"), headerValue(r, "token"))
				}
			}
			break
		}
		if time.Now().After(deadline) || p.Exited() {
			t.Fatalf("%d records in leak-data, want 5:\n%s", len(data), p.Stderr.String())
		}
	}

	// The refused reference failed its task, saying why without the value.
	var trace string
	deadline = time.Now().Add(60 * time.Second)
	for {
		var st struct {
			Tasks []struct {
				State string `json:"state"`
				Trace string `json:"trace"`
			} `json:"tasks"`
		}
		if err := getJSON(p.url()+"/connectors/denied-src/status", &st); err == nil && len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED" {
			trace = st.Tasks[0].Trace
			break
		}
		if time.Now().After(deadline) || p.Exited() {
			t.Fatalf("denied-src's task never failed: %+v\n%s", st, p.Stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, want := range []string{`environment variable "SLUICE_DENIED_TOKEN" is not allowed by config.providers.env.param.allowlist.pattern`, `"transforms.token.value.literal"`} {
		if !strings.Contains(trace, want) {
			t.Errorf("denied-src's trace does not say %q:\n%s", want, trace)
		}
	}
	if len(records["leak-denied"]) != 0 {
		t.Errorf("denied-src produced %d records", len(records["leak-denied"]))
	}

	// GET /connectors/{name}/config returns the references, as Connect does.
	var config map[string]string
	if err := getJSON(p.url()+"/connectors/secret-src/config", &config); err != nil {
		t.Fatal(err)
	}
	if config["transforms.pw.value.literal"] != fileRef || config["transforms.token.value.literal"] != "${env::SLUICE_LEAK_TOKEN}" {
		t.Errorf("GET config = %v, want the references as written", config)
	}

	// Every REST answer.
	validate, err := json.Marshal(s.connector("leak-data", fileRef))
	if err != nil {
		t.Fatal(err)
	}
	var answers []string
	for _, name := range []string{"secret-src", "denied-src"} {
		for _, path := range []string{"", "/config", "/status", "/tasks", "/tasks/0/status", "/topics", "/offsets", "/tasks-config"} {
			answers = append(answers, "GET /connectors/"+name+path)
		}
	}
	answers = append(answers, "GET /connectors", "GET /connectors?expand=info&expand=status", "GET /", "GET /connector-plugins",
		"GET /admin/loggers", "GET /metrics", "GET /health", "PUT /connector-plugins/Datagen/config/validate")
	for _, a := range answers {
		method, path, _ := strings.Cut(a, " ")
		var body any
		if method == http.MethodPut {
			body = json.RawMessage(validate)
		}
		status, b, err := request(method, p.url()+path, body)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if status >= 500 {
			t.Errorf("%s: status %d: %s", a, status, b)
		}
		s.checkNoSecret(t, a, b)
	}

	// The internal topics, read once more now that the failure is
	// recorded; the refused secret is nowhere, not even in the data.
	internal := []string{"connect-configs", "connect-offsets", "connect-status", "sluice-leases"}
	records = topicRecords(t, broker, internal...)
	for _, topic := range internal {
		if len(records[topic]) == 0 {
			t.Errorf("internal topic %s is empty or missing: the check would prove nothing", topic)
		}
	}
	for topic, rs := range records {
		for _, r := range rs {
			if topic == "leak-data" {
				if bytes.Contains(recordBytes(r), []byte(s.denied)) {
					t.Errorf("the refused env secret is in the data topic")
				}
				continue
			}
			s.checkNoSecret(t, fmt.Sprintf("topic %s, offset %d", topic, r.Offset), recordBytes(r))
		}
	}

	// The logs (at debug level), the access log included.
	logs := p.Stderr.String()
	for _, want := range []string{`msg="REST request"`, `msg="lease finished" connector=secret-src`, `msg="task failed" connector=denied-src`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the coordinator's log has no %s line: the check would prove little", want)
		}
	}
	s.checkNoSecret(t, "the coordinator's log", []byte(logs))
}

// storeConfig writes a connector configuration straight into the configs
// topic, past the REST API's validation.
func storeConfig(t *testing.T, broker, name string, props map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := kafka.Dial(ctx, kafka.Config{Brokers: strings.Split(broker, ","), ClientID: "leak-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	st, err := state.Open(ctx, client, state.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	props = maps.Clone(props)
	props["name"] = name
	if err := st.Configs.PutConnectorConfig(ctx, name, props, state.TargetStarted); err != nil {
		t.Fatal(err)
	}
}

// A reference the providers' allow settings refuse is reported when the
// configuration is submitted, as Connect reports any invalid value, and
// nothing is looked up: POST /connectors and PUT /connectors/{name}/config
// answer 400 naming the key, the reference and the setting, and create
// nothing; PUT /connector-plugins/{class}/config/validate reports it as an
// error on its key. The refused values are in no answer and not in the
// logs (at debug level).
func TestRefusedReferencesReportedOnSubmit(t *testing.T) {
	s := newLeakSetup(t)
	broker := startBroker(t)
	addr := proctest.FreeAddr(t)
	p := startProcess(t, "refused", addr, append(coordinatorEnv(broker, addr), s.env...))
	waitLeading(t, p)
	allowedRef := "${file:" + s.secretsFile + ":password}"

	tests := []struct {
		name, key, ref, reason string
	}{
		{name: "env variable outside allowlist.pattern", key: "transforms.token.value.literal", ref: "${env::SLUICE_DENIED_TOKEN}",
			reason: `environment variable "SLUICE_DENIED_TOKEN" is not allowed by config.providers.env.param.allowlist.pattern`},
		{name: "file outside allowed.paths", key: "transforms.pw.value.literal", ref: "${file:" + s.outsideFile + ":password}",
			reason: `file "` + s.outsideFile + `" is not allowed by config.providers.file.param.allowed.paths`},
		{name: "env reference with a path", key: "transforms.token.value.literal", ref: "${env:p:SLUICE_LEAK_TOKEN}",
			reason: "path is not supported by EnvVarConfigProvider"},
		{name: "unknown key", key: "producer.override.sasl.jaas.config", ref: "${env::SLUICE_DENIED_TOKEN}",
			reason: `environment variable "SLUICE_DENIED_TOKEN" is not allowed by config.providers.env.param.allowlist.pattern`},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("refused-%d", i)
			config := s.connector("refused", allowedRef)
			config["name"] = name
			config[tc.key] = tc.ref
			want := "Invalid value " + tc.ref + " for configuration " + tc.key + ": " + tc.reason

			for _, r := range []struct {
				method, path string
				body         any
			}{
				{http.MethodPut, "/connectors/" + name + "/config", config},
				{http.MethodPost, "/connectors", map[string]any{"name": name, "config": config}},
			} {
				status, b, err := request(r.method, p.url()+r.path, r.body)
				if err != nil {
					t.Fatal(err)
				}
				var e struct {
					Code    int    `json:"error_code"`
					Message string `json:"message"`
				}
				if status != http.StatusBadRequest || json.Unmarshal(b, &e) != nil || e.Code != http.StatusBadRequest {
					t.Fatalf("%s %s: status %d: %s", r.method, r.path, status, b)
				}
				for _, w := range []string{"Connector configuration is invalid and contains the following 1 error(s)", want} {
					if !strings.Contains(e.Message, w) {
						t.Errorf("%s %s: message does not say %q:\n%s", r.method, r.path, w, e.Message)
					}
				}
				s.checkNoSecret(t, r.method+" "+r.path, b)
			}
			if status, b, _ := request(http.MethodGet, p.url()+"/connectors/"+name, nil); status != http.StatusNotFound {
				t.Errorf("GET /connectors/%s: status %d, want 404: the refused connector was created: %s", name, status, b)
			}

			status, b, err := request(http.MethodPut, p.url()+"/connector-plugins/Datagen/config/validate", config)
			if err != nil || status != http.StatusOK {
				t.Fatalf("validate: status %d, %v: %s", status, err, b)
			}
			s.checkNoSecret(t, "validate", b)
			var v struct {
				ErrorCount int `json:"error_count"`
				Configs    []struct {
					Value struct {
						Name   string   `json:"name"`
						Errors []string `json:"errors"`
					} `json:"value"`
				} `json:"configs"`
			}
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			var errs []string
			for _, c := range v.Configs {
				if c.Value.Name == tc.key {
					errs = c.Value.Errors
				}
			}
			if v.ErrorCount != 1 || len(errs) != 1 || !strings.HasPrefix(errs[0], want) {
				t.Errorf("validate: error_count %d, errors on %s %q; want 1, %q", v.ErrorCount, tc.key, errs, want)
			}
		})
	}

	// The references the settings allow pass, and are not looked up
	// either: the validation answer holds none of the values.
	allowed := s.connector("refused", allowedRef)
	allowed["name"] = "allowed"
	status, b, err := request(http.MethodPut, p.url()+"/connector-plugins/Datagen/config/validate", allowed)
	if err != nil || status != http.StatusOK || !strings.Contains(string(b), `"error_count":0`) {
		t.Fatalf("validating the allowed references: status %d, %v: %s", status, err, b)
	}
	s.checkNoSecret(t, "validate", b)

	logs := p.Stderr.String()
	if !strings.Contains(logs, `msg="REST request"`) {
		t.Errorf("the coordinator's log has no REST request line: the check would prove little")
	}
	s.checkNoSecret(t, "the coordinator's log", []byte(logs))
}

// With SLUICE_INVOKER=pull the lease a worker polls holds the connector's
// configuration as written, references and all: the worker resolves them
// with its own providers, so the coordinator never sends a secret.
func TestPulledLeaseHoldsReferencesNotSecrets(t *testing.T) {
	s := newLeakSetup(t)
	broker := startBroker(t)
	addr := proctest.FreeAddr(t)
	p := startProcess(t, "leak-pull", addr, append(coordinatorEnv(broker, addr), append(s.env, "SLUICE_INVOKER=pull")...))
	waitLeading(t, p)
	fileRef := "${file:" + s.secretsFile + ":password}"
	mustRequest(t, http.MethodPost, p.url()+"/connectors",
		map[string]any{"name": "secret-src", "config": s.connector("leak-data", fileRef)}, http.StatusCreated)

	var body []byte
	deadline := time.Now().Add(60 * time.Second)
	for len(body) == 0 {
		if time.Now().After(deadline) || p.Exited() {
			t.Fatalf("no lease to poll:\n%s", p.Stderr.String())
		}
		q := url.Values{"kind": {"source"}, "wait": {"2s"}, "worker": {"leak-test"}}
		status, b, err := request(http.MethodPost, p.url()+invoke.PollPath+"?"+q.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if status == http.StatusOK {
			body = b
		}
	}
	var l struct {
		ConnectorConfig map[string]string `json:"connector_config"`
		TaskConfig      map[string]string `json:"task_config"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("lease %s: %v", body, err)
	}
	if l.ConnectorConfig["transforms.pw.value.literal"] != fileRef || l.TaskConfig["transforms.token.value.literal"] != "${env::SLUICE_LEAK_TOKEN}" {
		t.Errorf("the lease does not hold the references as written: %s", body)
	}
	s.checkNoSecret(t, "the polled lease", body)
	s.checkNoSecret(t, "the coordinator's log", []byte(p.Stderr.String()))
}

// waitLeading waits until p leads and its REST API answers.
func waitLeading(t *testing.T, p *process) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !p.leading() {
		if time.Now().After(deadline) || p.Exited() {
			t.Fatalf("the coordinator never led:\n%s", p.Stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
