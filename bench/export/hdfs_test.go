//go:build hdfs

package export_test

import (
	"context"
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/sluicehq/sluice/internal/hdfstest"
	"github.com/sluicehq/sluice/internal/realkafka"
	"github.com/sluicehq/sluice/pkg/connectors/hdfssink"
	"github.com/sluicehq/sluice/pkg/storage/store/hdfsstore"
)

// The HDFS cluster and, with SLUICE_TEST_KAFKA=real (make
// bench-export-real), the Apache Kafka broker are shared by the benchmarks
// and stopped when they are done.
func TestMain(m *testing.M) {
	code := hdfstest.Main(m)
	realkafka.CloseShared()
	os.Exit(code)
}

// BenchmarkExportParquetHDFS exports the topic to snappy Parquet files on a
// real HDFS (Hadoop's MiniDFSCluster, one namenode and one datanode, in
// its own JVM) with the HDFS sink connector. make bench-export runs it
// with the tag hdfs.
func BenchmarkExportParquetHDFS(b *testing.B) {
	d := produce(b, envInt(b, "SLUICE_BENCH_RECORDS", defaultRecords))
	c := hdfstest.Shared(b, hdfstest.Mode{})
	b.Setenv("HADOOP_USER_NAME", "sluice")
	dir := func(iter int) string { return "bench/run" + strconv.Itoa(iter) }
	run(b, d, func(iter int) map[string]string {
		cfg := sinkConfig("export-hdfs", hdfssink.Class)
		cfg["hdfs.url"] = c.URL()
		cfg["topics.dir"] = dir(iter)
		return cfg
	}, func(iter int) int64 {
		ctx := context.Background()
		store, err := hdfsstore.Dial(ctx, hdfsstore.Options{URL: c.URL(), User: "sluice"})
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		keys, err := store.List(ctx, dir(iter)+"/")
		if err != nil {
			b.Fatal(err)
		}
		files := map[string][]byte{}
		for _, key := range keys {
			rc, err := store.Open(ctx, key)
			if err != nil {
				b.Fatal(err)
			}
			files[key], err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
		return checkParquet(b, d, files)
	})
}
