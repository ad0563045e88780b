package coordinator

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// The cost of one lease against values worked out by hand from AWS's list
// prices (us-east-1).
func TestPrice(t *testing.T) {
	for _, tt := range []struct {
		name string
		cost Cost
		kind lease.Kind
		took time.Duration
		want Charge
	}{
		{
			// 1.5 s × 1 GB = 1.5 GB-s; 1.5 × 0.0000133334 + 0.0000002.
			name: "lambda arm64 sink 1024 MB 1.5 s",
			kind: lease.KindSink, took: 1500 * time.Millisecond,
			want: Charge{MemoryMB: 1024, BilledSeconds: 1.5, GBSeconds: 1.5, Requests: 1, USD: 0.0000202001},
		},
		{
			// 1234.5 ms bills as 1235 ms; 1.235 s × 0.5 GB = 0.6175 GB-s;
			// 0.6175 × 0.0000166667 + 0.0000002.
			name: "lambda x86 source 512 MB rounds up to the millisecond",
			cost: Cost{CostArch: "x86_64"}, kind: lease.KindSource, took: 1234500 * time.Microsecond,
			want: Charge{MemoryMB: 512, BilledSeconds: 1.235, GBSeconds: 0.6175, Requests: 1, USD: 0.00001049168725},
		},
		{
			name: "lambda: an instant lease still pays its request",
			kind: lease.KindSource,
			want: Charge{MemoryMB: 512, Requests: 1, USD: 0.0000002},
		},
		{
			// 0.25 s × 2 GB = 0.5 GB-s; 0.5 × 0.00002 + 0.000001.
			name: "lambda with configured prices and memory",
			cost: Cost{CostSinkMemoryMB: 2048, Prices: Prices{LambdaArm64GBSecond: 0.00002, LambdaRequest: 0.000001}},
			kind: lease.KindSink, took: 250 * time.Millisecond,
			want: Charge{MemoryMB: 2048, BilledSeconds: 0.25, GBSeconds: 0.5, Requests: 1, USD: 0.000011},
		},
		{
			// One hour of 0.5 vCPU and 1 GB: 0.5 × 0.03238 + 1 × 0.00356.
			name: "fargate arm64 worker, one hour",
			cost: Cost{CostModel: CostModelFargate}, kind: lease.KindSink, took: time.Hour,
			want: Charge{MemoryMB: 1024, BilledSeconds: 3600, GBSeconds: 3600, USD: 0.01975},
		},
		{
			// 90 s of 2 vCPU and 4 GB: 90/3600 × (2 × 0.04048 + 4 × 0.004445).
			name: "fargate x86 worker, 90 s",
			cost: Cost{CostModel: CostModelFargate, CostArch: "x86_64", CostWorkerVCPU: 2, CostWorkerMemoryMB: 4096},
			kind: lease.KindSource, took: 90 * time.Second,
			want: Charge{MemoryMB: 4096, BilledSeconds: 90, GBSeconds: 360, USD: 0.0024685},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cost.withDefaults("inprocess").Price(tt.kind, tt.took)
			if got.MemoryMB != tt.want.MemoryMB || got.Requests != tt.want.Requests ||
				!near(got.BilledSeconds, tt.want.BilledSeconds) || !near(got.GBSeconds, tt.want.GBSeconds) || !near(got.USD, tt.want.USD) {
				t.Errorf("Price = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// The model follows the invoker unless set: long-lived workers (pull) are
// priced as Fargate, invocations as Lambda.
func TestCostModelDefault(t *testing.T) {
	for _, tt := range []struct{ name, invoker, model, want string }{
		{name: "lambda invoker", invoker: "lambda", want: CostModelLambda},
		{name: "in-process (dev) as Lambda", invoker: "inprocess", want: CostModelLambda},
		{name: "pull workers", invoker: "pull", want: CostModelFargate},
		{name: "set explicitly", invoker: "pull", model: CostModelLambda, want: CostModelLambda},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Cost{CostModel: tt.model}).withDefaults(tt.invoker).CostModel; got != tt.want {
				t.Errorf("model %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCostProblems(t *testing.T) {
	for _, tt := range []struct {
		name string
		cost Cost
		want int
	}{
		{name: "zero value", cost: Cost{}},
		{name: "bad model and arch", cost: Cost{CostModel: "ec2", CostArch: "riscv"}, want: 2},
		{name: "negative price and history", cost: Cost{LeaseHistory: -1, Prices: Prices{LambdaRequest: -1}}, want: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cost.problems()
			if len(got) != tt.want {
				t.Errorf("problems %v, want %d", got, tt.want)
			}
			for _, err := range got {
				if !strings.HasPrefix(err.Error(), "SLUICE_") {
					t.Errorf("%q does not name its variable", err)
				}
			}
		})
	}
}
