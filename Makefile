# Sluice: Kafka Connect for serverless and containers.
#
#   make run    dev mode: embedded Kafka broker + example pipeline (datagen -> topic -> file)
#   make test   every test, against real components started by the tests
#   make bench  benchmarks (throughput, CPU, memory), reported, never asserted

GO       ?= go
BIN      ?= bin
PKGS     ?= ./...
TESTFLAGS ?= -count=1 -timeout 15m

.PHONY: all build run test test-race bench bench-smoke bench-pipeline bench-export bench-coordinator tools vet clean

all: build

build:
	$(GO) build -o $(BIN)/ ./coordinator/cmd/coordinator ./functions/source-poll ./functions/sink-batch

# Dev mode on the embedded broker with the example connectors.
run:
	$(GO) build -o $(BIN)/ ./coordinator/cmd/coordinator
	$(BIN)/coordinator examples/datagen-orders.properties examples/orders-file-sink.properties examples/orders-parquet-sink.properties

VERSITYGW_VERSION ?= v1.8.0
GOBIN ?= $(shell $(GO) env GOPATH)/bin

# Tools the tests need: kcat (a real librdkafka client) for interoperability
# checks, and versitygw (a real S3 server) for the S3 sink's tests.
tools:
	@test -x $(GOBIN)/versitygw || command -v versitygw >/dev/null 2>&1 || { \
	  echo "installing versitygw $(VERSITYGW_VERSION)"; \
	  $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION); }
	@command -v kcat >/dev/null 2>&1 || { \
	  echo "installing kcat (apt-get)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq kcat >/dev/null; }
	@command -v kcat >/dev/null 2>&1 || { echo "kcat is required by the tests: apt-get install kcat"; exit 1; }

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

test: tools vet
	$(GO) test $(TESTFLAGS) $(PKGS)
	$(MAKE) bench-smoke

test-race: tools
	$(GO) test -race $(TESTFLAGS) $(PKGS)

# A short run of every benchmark, so that they keep working.
bench-smoke:
	$(GO) test -run '^$$' -bench . -benchtime 1x $(PKGS) > /dev/null

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

clean:
	rm -rf $(BIN) data

# The issue's figure: 1,000,000 records of ~200 bytes through the source
# pipeline, next to raw produce on the same (out-of-process) broker.
bench-pipeline:
	$(GO) test -run '^$$' -bench 'BenchmarkSourcePipeline|BenchmarkRawProduce|BenchmarkRawFetch' -benchtime 1000000x -timeout 30m ./pkg/connect/lease/

# The issue's export figure: 1,000,000 records of ~200 bytes (4 partitions,
# out-of-process broker) to snappy Parquet on the local store and on
# versitygw, read back and checked.
bench-export:
	SLUICE_BENCH_RECORDS=$${SLUICE_BENCH_RECORDS:-1000000} $(GO) test -run '^$$' -bench 'BenchmarkExportParquet' -benchtime 1x -timeout 30m ./bench/export/

# The issue's scale figure: a coordinator managing 1,000 connectors with
# 10,000 tasks (in-process broker, an invoker that completes leases at once):
# start-up, lease decisions/s, REST p50/p99 at 1,000 requests/s, RSS, heap.
bench-coordinator:
	SLUICE_BENCH_SCALE=full $(GO) test -run '^$$' -bench 'BenchmarkCoordinator$$' -benchtime 1x -timeout 30m ./coordinator/
