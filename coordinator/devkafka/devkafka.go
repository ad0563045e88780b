// Package devkafka runs the embedded Kafka-protocol broker of dev mode: the
// in-process kfake cluster from franz-go, persisted to a local folder, so
// that `make run` needs nothing installed. It is for development and tests,
// not production: point SLUICE_BOOTSTRAP_SERVERS at a real cluster for that.
package devkafka

import (
	"fmt"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
}

// Options configure the embedded broker.
type Options struct {
	// Addr is 127.0.0.1:port to listen on; port 0 picks a free one.
	Addr string
	// DataDir persists the broker's topics and groups; empty keeps them in
	// memory only.
	DataDir string
	// Partitions is the partition count of automatically created topics
	// (default 1).
	Partitions int
}

// Start starts the broker. Topics are created automatically on first use,
// as on a default Kafka broker (auto.create.topics.enable=true).
func Start(o Options) (*Broker, error) {
	host, portStr, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("embedded kafka address %q: %w", o.Addr, err)
	}
	if host != "127.0.0.1" && host != "localhost" {
		return nil, fmt.Errorf("embedded kafka listens on 127.0.0.1 only, not %q", host)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("embedded kafka port %q: %w", portStr, err)
	}
	if o.Partitions <= 0 {
		o.Partitions = 1
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(o.Partitions),
	}
	if o.DataDir != "" {
		opts = append(opts, kfake.DataDir(o.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting embedded kafka on %s: %w", o.Addr, err)
	}
	return &Broker{cluster: c}, nil
}

// Addrs returns the bootstrap addresses.
func (b *Broker) Addrs() []string { return b.cluster.ListenAddrs() }

// Close stops the broker, persisting its state when it has a data folder.
func (b *Broker) Close() { b.cluster.Close() }
