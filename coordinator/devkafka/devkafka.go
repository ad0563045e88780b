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
	"github.com/twmb/franz-go/pkg/kmsg"
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
	// NoAutoCreate turns automatic topic creation off, as
	// auto.create.topics.enable=false does on a Kafka broker (MSK's
	// default): a topic exists only once CreateTopics made it.
	NoAutoCreate bool
}

// Start starts the broker. Unless NoAutoCreate is set, topics are created
// automatically on first use, as on a default Kafka broker
// (auto.create.topics.enable=true).
//
// Automatic creation is done here, not by kfake: kfake creates a topic that
// a metadata request names without recording it in its topic list
// (topics.json), which it rewrites only on CreateTopics and on a clean
// Close. After a crash (kill -9) such a topic was unknown and its segments
// orphaned. Here each topic a metadata request asks to
// auto-create goes through kfake's CreateTopic first, which writes the
// topic list before the request is answered, so no record can be written
// to a topic the list does not hold.
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
		kfake.DefaultNumPartitions(o.Partitions),
	}
	if o.DataDir != "" {
		opts = append(opts, kfake.DataDir(o.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting embedded kafka on %s: %w", o.Addr, err)
	}
	if !o.NoAutoCreate {
		c.ControlKey(int16(kmsg.Metadata), func(req kmsg.Request) (kmsg.Response, error, bool) {
			autoCreate(c, req.(*kmsg.MetadataRequest))
			return nil, nil, false // kfake answers the request, now that the topics exist
		})
	}
	return &Broker{cluster: c}, nil
}

// autoCreate creates the topics a metadata request names that do not exist
// yet, if the request allows auto-creation (always below version 4, as in
// Kafka). kfake runs control functions on their own goroutine while its
// loop keeps serving admin calls, so CreateTopic may be called here.
func autoCreate(c *kfake.Cluster, req *kmsg.MetadataRequest) {
	if req.Version >= 4 && !req.AllowAutoTopicCreation {
		return
	}
	for _, t := range req.Topics {
		if t.Topic == nil || *t.Topic == "" {
			continue // by topic id: such a topic exists or stays unknown
		}
		// An existing topic (TopicAlreadyExists), or a name kfake
		// refuses, fails here; the metadata answer then reports the
		// topic as Kafka would.
		_ = c.CreateTopic(*t.Topic, -1, nil)
	}
}

// Addrs returns the bootstrap addresses.
func (b *Broker) Addrs() []string { return b.cluster.ListenAddrs() }

// Cluster is the kfake cluster itself, for tests that inject faults
// (ControlKey) or delete and create topics behind clients' backs.
func (b *Broker) Cluster() *kfake.Cluster { return b.cluster }

// Close stops the broker, persisting its state when it has a data folder.
func (b *Broker) Close() { b.cluster.Close() }
