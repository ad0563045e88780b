// Package realkafka runs Apache Kafka for tests: KRaft brokers (one, or a
// three-node cluster where a test needs replication) and Apache Kafka
// Connect, as JVMs on loopback ports, from the jars pom.xml resolves into
// $HOME/.cache/sluice/kafka-<Version>/libs (`make kafka`).
//
// A JVM is started once per test binary (Shared), not per test: a test
// package's TestMain calls Main, which stops every JVM when the tests are
// done. Each JVM is also killed by the kernel if the test binary dies
// (PR_SET_PDEATHSIG), so none outlives its test binary, and the temporary
// folders of test binaries that died are removed by the next Start.
//
// Nothing here skips: a missing java or missing jars fail the test, with
// the command that installs them.
package realkafka

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Version is the Apache Kafka release pom.xml resolves.
const Version = "4.1.1"

// Heap is the maximum heap of every JVM started here.
const Heap = "-Xmx512m"

// Env selects the real broker for the test suites that can run on both:
// SLUICE_TEST_KAFKA=real (make test-kafka).
const Env = "SLUICE_TEST_KAFKA"

// Enabled reports whether SLUICE_TEST_KAFKA=real.
func Enabled() bool { return os.Getenv(Env) == "real" }

// Libs is the folder of Kafka's jars: $SLUICE_KAFKA_LIBS, or
// $HOME/.cache/sluice/kafka-<Version>/libs. It fails if the jars or java
// are missing.
func Libs() (string, error) {
	dir := os.Getenv("SLUICE_KAFKA_LIBS")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".cache", "sluice", "kafka-"+Version, "libs")
	}
	if _, err := os.Stat(filepath.Join(dir, "kafka_2.13-"+Version+".jar")); err != nil {
		return "", fmt.Errorf("realkafka: Apache Kafka %s is not in %s: run `make kafka` (Maven resolves internal/realkafka/pom.xml): %w", Version, dir, err)
	}
	if _, err := exec.LookPath("java"); err != nil {
		return "", fmt.Errorf("realkafka: java (17 or newer) is not installed: run `make kafka`: %w", err)
	}
	return dir, nil
}

// Options shape a cluster.
type Options struct {
	// Brokers is the number of nodes, each broker and controller (1 if 0).
	Brokers int
	// Partitions of auto-created topics (num.partitions; 1 if 0).
	Partitions int
	// ReplicationFactor of auto-created topics and of Kafka's own internal
	// topics (default: the number of brokers).
	ReplicationFactor int
	// MinISR is min.insync.replicas (1 if 0).
	MinISR int
	// Props are added to (and override) every node's server.properties.
	Props map[string]string
}

func (o Options) withDefaults() Options {
	if o.Brokers <= 0 {
		o.Brokers = 1
	}
	if o.Partitions <= 0 {
		o.Partitions = 1
	}
	if o.ReplicationFactor <= 0 {
		o.ReplicationFactor = o.Brokers
	}
	if o.MinISR <= 0 {
		o.MinISR = 1
	}
	return o
}

// Cluster is a running KRaft cluster.
type Cluster struct {
	opts      Options
	dir       string
	clusterID string
	nodes     []*Node
}

// Node is one broker (and controller) of a cluster.
type Node struct {
	ID         int
	Addr       string // PLAINTEXT listener, 127.0.0.1:port
	controller string // CONTROLLER listener
	dir        string
	proc       *jvm
}

// Start formats and starts a cluster, waiting (within ctx) until every
// broker has registered.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	opts = opts.withDefaults()
	libs, err := Libs()
	if err != nil {
		return nil, err
	}
	removeStale()
	dir, err := os.MkdirTemp("", fmt.Sprintf("sluice-realkafka-%d-", os.Getpid()))
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, dir: dir, clusterID: randomClusterID()}
	for i := range opts.Brokers {
		addrs, err := freeAddrs(2)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.nodes = append(c.nodes, &Node{ID: i + 1, Addr: addrs[0], controller: addrs[1],
			dir: filepath.Join(dir, fmt.Sprintf("node%d", i+1))})
	}
	if err := writeLog4j(dir); err != nil {
		c.Close()
		return nil, err
	}
	// Format every node's storage, in parallel (each is a JVM).
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		if err := c.writeProperties(n); err != nil {
			c.Close()
			return nil, err
		}
		wg.Go(func() {
			errs[i] = runJava(ctx, libs, dir, filepath.Join(n.dir, "format.log"),
				"kafka.tools.StorageTool", "format", "--ignore-formatted", "-t", c.clusterID,
				"-c", filepath.Join(n.dir, "server.properties"))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	for _, n := range c.nodes {
		if err := c.startNode(libs, n); err != nil {
			c.Close()
			return nil, err
		}
	}
	if err := c.WaitReady(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) writeProperties(n *Node) error {
	var voters []string
	for _, m := range c.nodes {
		voters = append(voters, fmt.Sprintf("%d@%s", m.ID, m.controller))
	}
	o := c.opts
	props := map[string]string{
		"process.roles":                                    "broker,controller",
		"node.id":                                          strconv.Itoa(n.ID),
		"controller.quorum.voters":                         strings.Join(voters, ","),
		"listeners":                                        "PLAINTEXT://" + n.Addr + ",CONTROLLER://" + n.controller,
		"advertised.listeners":                             "PLAINTEXT://" + n.Addr,
		"controller.listener.names":                        "CONTROLLER",
		"inter.broker.listener.name":                       "PLAINTEXT",
		"listener.security.protocol.map":                   "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
		"log.dirs":                                         filepath.Join(n.dir, "data"),
		"num.partitions":                                   strconv.Itoa(o.Partitions),
		"default.replication.factor":                       strconv.Itoa(o.ReplicationFactor),
		"min.insync.replicas":                              strconv.Itoa(o.MinISR),
		"offsets.topic.replication.factor":                 strconv.Itoa(o.ReplicationFactor),
		"offsets.topic.num.partitions":                     "5",
		"transaction.state.log.replication.factor":         strconv.Itoa(o.ReplicationFactor),
		"transaction.state.log.min.isr":                    strconv.Itoa(min(o.MinISR, o.ReplicationFactor)),
		"share.coordinator.state.topic.replication.factor": strconv.Itoa(o.ReplicationFactor),
		"share.coordinator.state.topic.min.isr":            strconv.Itoa(min(o.MinISR, o.ReplicationFactor)),
		"auto.create.topics.enable":                        "true",
		"delete.topic.enable":                              "true",
		"group.initial.rebalance.delay.ms":                 "0",
		// The tests' elections use sessions of a second or two.
		"group.min.session.timeout.ms": "500",
		"num.network.threads":          "2",
		"num.io.threads":               "2",
		"background.threads":           "2",
		"log.flush.interval.messages":  "9223372036854775807",
		// Records keep whatever timestamp they carry (datagen's start in
		// 2024): with Kafka's default time retention (7 days, counted from
		// the record timestamps) and time-based rolling, such records are
		// rolled into segments of their own and deleted within a minute.
		"log.retention.ms":                "-1",
		"log.roll.ms":                     "3153600000000",
		"log.retention.check.interval.ms": "3600000",
	}
	maps.Copy(props, o.Props)
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(props)) {
		fmt.Fprintf(&b, "%s=%s\n", k, props[k])
	}
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(n.dir, "server.properties"), []byte(b.String()), 0o644)
}

func (c *Cluster) startNode(libs string, n *Node) error {
	p, err := startJVM(libs, c.dir, filepath.Join(n.dir, "broker.log"),
		"kafka.Kafka", filepath.Join(n.dir, "server.properties"))
	if err != nil {
		return err
	}
	n.proc = p
	return nil
}

// Bootstrap is the comma-separated list of the brokers' addresses.
func (c *Cluster) Bootstrap() string { return strings.Join(c.Addrs(), ",") }

// Addrs are the brokers' addresses.
func (c *Cluster) Addrs() []string {
	var a []string
	for _, n := range c.nodes {
		a = append(a, n.Addr)
	}
	return a
}

// Nodes are the cluster's nodes, in node id order.
func (c *Cluster) Nodes() []*Node { return c.nodes }

// Options are the options the cluster was started with.
func (c *Cluster) Options() Options { return c.opts }

// Log is the end of node i's (0-based) log, for a failed test.
func (c *Cluster) Log(i int) string {
	b, _ := os.ReadFile(filepath.Join(c.nodes[i].dir, "broker.log"))
	return lastLines(string(b), 80)
}

// Kill kills node i (0-based) with SIGKILL, as a crash would.
func (c *Cluster) Kill(i int) {
	if p := c.nodes[i].proc; p != nil {
		p.kill()
	}
}

// Restart starts node i (0-based) again, after Kill, on the same ports and
// data, and waits until the cluster has every broker again.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	libs, err := Libs()
	if err != nil {
		return err
	}
	n := c.nodes[i]
	if n.proc != nil && !n.proc.exited() {
		return fmt.Errorf("realkafka: node %d is running", n.ID)
	}
	if err := c.startNode(libs, n); err != nil {
		return err
	}
	return c.WaitReady(ctx)
}

// WaitReady waits until every node runs and the cluster's metadata lists
// every broker.
func (c *Cluster) WaitReady(ctx context.Context) error {
	var last error
	for {
		for i, n := range c.nodes {
			if n.proc.exited() {
				return fmt.Errorf("realkafka: broker %d exited: %v\n%s", n.ID, n.proc.err, c.Log(i))
			}
		}
		if last = c.metadataReady(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("realkafka: cluster not ready: %v (%w)\n%s", last, ctx.Err(), c.Log(0))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *Cluster) metadataReady(ctx context.Context) error {
	for _, n := range c.nodes {
		cl, err := kgo.NewClient(kgo.SeedBrokers(n.Addr), kgo.RequestRetries(0), kgo.DialTimeout(time.Second))
		if err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		resp, err := kmsg.NewPtrMetadataRequest().RequestWith(rctx, cl)
		cancel()
		cl.Close()
		if err != nil {
			return err
		}
		if len(resp.Brokers) != len(c.nodes) {
			return fmt.Errorf("broker %d sees %d of %d brokers", n.ID, len(resp.Brokers), len(c.nodes))
		}
		if resp.ControllerID < 0 {
			return fmt.Errorf("broker %d knows no controller", n.ID)
		}
	}
	return nil
}

// Close kills every node and removes the cluster's folder.
func (c *Cluster) Close() {
	for _, n := range c.nodes {
		if n.proc != nil {
			n.proc.kill()
		}
	}
	os.RemoveAll(c.dir)
}

// Reset deletes every topic but Kafka's own and every consumer group, so
// that the next test on a shared cluster starts from an empty one.
func (c *Cluster) Reset(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Addrs()...))
	if err != nil {
		return err
	}
	defer cl.Close()
	groups, err := kmsg.NewPtrListGroupsRequest().RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("realkafka: list groups: %w", err)
	}
	if len(groups.Groups) > 0 {
		del := kmsg.NewPtrDeleteGroupsRequest()
		for _, g := range groups.Groups {
			del.Groups = append(del.Groups, g.Group)
		}
		// A group whose members have not left yet (a killed process)
		// cannot be deleted; its name is not reused by the next test's
		// topics, so it is left to expire.
		if _, err := del.RequestWith(ctx, cl); err != nil {
			return fmt.Errorf("realkafka: delete groups: %w", err)
		}
	}
	for {
		meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
		if err != nil {
			return fmt.Errorf("realkafka: metadata: %w", err)
		}
		var names []string
		for _, t := range meta.Topics {
			if t.Topic != nil && !t.IsInternal && !strings.HasPrefix(*t.Topic, "__") {
				names = append(names, *t.Topic)
			}
		}
		if len(names) == 0 {
			return nil
		}
		del := kmsg.NewPtrDeleteTopicsRequest()
		del.TimeoutMillis = 10000
		for _, name := range names {
			t := kmsg.NewDeleteTopicsRequestTopic()
			t.Topic = kmsg.StringPtr(name)
			del.Topics = append(del.Topics, t)
		}
		if _, err := del.RequestWith(ctx, cl); err != nil {
			return fmt.Errorf("realkafka: delete topics: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("realkafka: topics %v not deleted: %w", names, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// randomClusterID is a Kafka cluster id: 16 random bytes, base64 URL
// encoded without padding (what kafka-storage random-uuid prints). As
// Kafka's Uuid.randomUuid, it never starts with "-": kafka-storage would
// take such an id for an option ("argument --cluster-id/-t: expected one
// argument"), one start in 64.
func randomClusterID() string {
	for {
		var b [16]byte
		_, _ = rand.Read(b[:])
		if id := base64.RawURLEncoding.EncodeToString(b[:]); id[0] != '-' {
			return id
		}
	}
}

// freeAddrs returns n loopback addresses whose ports are free right now,
// all held open together so that they differ.
func freeAddrs(n int) ([]string, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// FreeAddr returns a loopback address whose port is free right now.
func FreeAddr() (string, error) {
	a, err := freeAddrs(1)
	if err != nil {
		return "", err
	}
	return a[0], nil
}

func writeLog4j(dir string) error {
	// WARN and above on stdout, which goes to the process's log file.
	const conf = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
`
	return os.WriteFile(filepath.Join(dir, "log4j2.yaml"), []byte(conf), 0o644)
}

// javaArgs are the JVM's options: a small heap, the cluster's logging
// configuration, the jars.
func javaArgs(libs, dir string) []string {
	return []string{Heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
		"-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile=" + filepath.Join(dir, "log4j2.yaml"),
		"-cp", filepath.Join(libs, "*")}
}

// jvm is a java process, killed by the kernel if the test binary dies.
type jvm struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
}

// startJVM starts java main args with its output to logPath. The process
// is started from a goroutine locked to its OS thread that lives as long as
// the process: PR_SET_PDEATHSIG fires when the thread that started the
// child exits, so the thread must not exit before the child does.
func startJVM(libs, dir, logPath, main string, args ...string) (*jvm, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p := &jvm{log: f, done: make(chan struct{})}
	p.cmd = exec.Command("java", append(append(javaArgs(libs, dir), main), args...)...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.Env = javaEnv()
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			runtime.UnlockOSThread()
			return
		}
		started <- nil
		p.err = p.cmd.Wait()
		f.Close()
		close(p.done)
		// The child is gone: the thread may go too (it is not unlocked,
		// so the runtime ends it rather than reuse it).
	}()
	if err := <-started; err != nil {
		f.Close()
		return nil, err
	}
	return p, nil
}

func (p *jvm) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits (10s at most) for the process to be gone.
func (p *jvm) kill() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// stop sends SIGTERM, then SIGKILL if the process has not exited after d.
func (p *jvm) stop(d time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(d):
		p.kill()
	}
}

// javaEnv is the environment without the variables Kafka's scripts read
// (KAFKA_HEAP_OPTS, KAFKA_OPTS...) or that would change the JVM's options.
func javaEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KAFKA_") || strings.HasPrefix(kv, "JAVA_TOOL_OPTIONS=") ||
			strings.HasPrefix(kv, "_JAVA_OPTIONS=") || strings.HasPrefix(kv, "CLASSPATH=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// runJava runs java main args to completion, its output to logPath.
func runJava(ctx context.Context, libs, dir, logPath, main string, args ...string) error {
	cmd := exec.CommandContext(ctx, "java", append(append(javaArgs(libs, dir), main), args...)...)
	cmd.Dir = dir
	cmd.Env = javaEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if logPath != "" {
		_ = os.WriteFile(logPath, out, 0o644)
	}
	if err != nil {
		return fmt.Errorf("realkafka: %s %s: %v\n%s", main, strings.Join(args, " "), err, lastLines(string(out), 40))
	}
	return nil
}

// Tool runs one of Kafka's command-line tools by its main class (for
// example "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
// what kafka-consumer-groups.sh runs) and returns its standard output.
func Tool(ctx context.Context, main string, args ...string) (string, error) {
	libs, err := Libs()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("sluice-realkafka-%d-", os.Getpid()))
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := writeLog4j(dir); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "java", append(append(javaArgs(libs, dir), main), args...)...)
	cmd.Dir = dir
	cmd.Env = javaEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("realkafka: %s: %v\n%s", main, err, lastLines(stderr.String(), 40))
	}
	return string(out), nil
}

// removeStale removes the folders of test binaries that have died.
func removeStale() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), "sluice-realkafka-*"))
	for _, m := range matches {
		parts := strings.SplitN(filepath.Base(m), "-", 4)
		if len(parts) < 3 {
			continue
		}
		pid, err := strconv.Atoi(parts[2])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(m)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
