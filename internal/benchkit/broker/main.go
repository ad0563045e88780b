// Command broker runs dev mode's embedded Kafka-protocol broker alone, in
// memory, until SIGTERM or SIGINT: the out-of-process broker of the
// benchmarks (benchkit.ExternalBroker).
//
//	broker 127.0.0.1:port partitions
//
// It is not the coordinator binary in dev mode on purpose: that is a
// coordinator too, and it would run every connector a benchmark writes to
// the configs topic alongside the coordinator being measured.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/sluicehq/sluice/coordinator/devkafka"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: broker 127.0.0.1:port partitions")
		os.Exit(2)
	}
	partitions, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "broker: partitions:", err)
		os.Exit(2)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	b, err := devkafka.Start(devkafka.Options{Addr: os.Args[1], Partitions: partitions})
	if err != nil {
		fmt.Fprintln(os.Stderr, "broker:", err)
		os.Exit(1)
	}
	<-sig
	b.Close()
}
