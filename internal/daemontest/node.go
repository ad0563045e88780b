package daemontest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/proctest"
)

// Node is a server that tests stop and start again on the same ports with
// its data, such as a search node: Launch starts its process and waits
// until it is ready, and Node keeps the running Daemon between Start,
// Stop, Restart and Close. Its methods are not safe for concurrent use.
type Node struct {
	// Dir holds the node's data; Close removes it.
	Dir string
	// Output is everything the node printed, across restarts.
	Output *proctest.Buffer
	// Launch starts the node's process and returns it once it is ready.
	Launch func() (*Daemon, error)

	d *Daemon // nil while stopped
}

// Start launches the node.
func (n *Node) Start() error {
	d, err := n.Launch()
	if err != nil {
		return err
	}
	n.d = d
	return nil
}

// Stop stops the node (its stop signal, SIGKILL after 20 s), keeping its
// data for Restart. Stopping a stopped node does nothing.
func (n *Node) Stop() {
	if n.d != nil {
		n.d.Stop()
		n.d = nil
	}
}

// Restart starts the stopped node again on the same ports with its data.
func (n *Node) Restart() error {
	n.Stop()
	return Retry(20, 500*time.Millisecond, n.Start) // the ports may linger for a moment
}

// Close stops the node and removes its data.
func (n *Node) Close() {
	n.Stop()
	os.RemoveAll(n.Dir)
}

// Log returns the last lines the node printed.
func (n *Node) Log(lines int) string { return proctest.LastLines(n.Output.String(), lines) }

// StartOnFreePorts calls start with two loopback ports found free (an HTTP
// and a transport port, as strings), up to three times: a port found free
// may be taken before a JVM binds it.
func StartOnFreePorts(start func(httpPort, transportPort string) error) error {
	var err error
	for range 3 {
		var hp, tp int
		if hp, err = FreePort(); err != nil {
			return err
		}
		if tp, err = FreePort(); err != nil {
			return err
		}
		if err = start(strconv.Itoa(hp), strconv.Itoa(tp)); err == nil {
			return nil
		}
	}
	return err
}

// WaitHealthy waits up to timeout until the search node d answers GET
// <url>/_cluster/health with status yellow or better, sending each request
// through client after prepare (credentials), if not nil. If it does not,
// WaitHealthy stops d and returns the error with the node's last lines.
func WaitHealthy(d *Daemon, timeout time.Duration, client *http.Client, url string, prepare func(*http.Request)) error {
	err := d.WaitReady(timeout, func() error {
		req, err := http.NewRequest(http.MethodGet, url+"/_cluster/health?wait_for_status=yellow&timeout=1s", nil)
		if err != nil {
			return err
		}
		if prepare != nil {
			prepare(req)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("cluster health: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		d.Stop()
		return fmt.Errorf("%w\n%s", err, proctest.LastLines(d.Log.String(), 40))
	}
	return nil
}
