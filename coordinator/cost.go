package coordinator

import (
	"fmt"
	"math"
	"time"

	"github.com/sluicehq/sluice/internal/env"
	"github.com/sluicehq/sluice/pkg/connect/lease"
)

// The list prices the cost estimates use by default: AWS's on-demand
// prices in us-east-1 (USD). Lambda bills GB-seconds of configured memory,
// duration rounded up to the millisecond, and each request; Fargate bills
// vCPU-hours and GB-hours of the task's configured size.
const (
	DefaultPriceLambdaArm64GBSecond  = 0.0000133334
	DefaultPriceLambdaX86GBSecond    = 0.0000166667
	DefaultPriceLambdaRequest        = 0.0000002 // $0.20 per million requests
	DefaultPriceFargateArm64VCPUHour = 0.03238
	DefaultPriceFargateArm64GBHour   = 0.00356
	DefaultPriceFargateX86VCPUHour   = 0.04048
	DefaultPriceFargateX86GBHour     = 0.004445
)

// The cost models: what a lease is priced as.
const (
	// CostModelLambda prices a lease as one Lambda invocation: its
	// invocation time times the function's memory, plus one request.
	CostModelLambda = "lambda"
	// CostModelFargate prices a lease as its share of a long-lived worker
	// on Fargate: its invocation time times the worker's vCPUs and memory.
	CostModelFargate = "fargate"
)

// Cost is how the coordinator estimates what leases cost
// (SLUICE_COST_*, SLUICE_PRICE_*): the model, the memory and size the
// functions or workers are configured with, and the list prices. A zero
// number takes its default.
type Cost struct {
	// LeaseHistory is how many ended leases are kept per task for
	// GET /sluice/v1/connectors/{name}/leases.
	LeaseHistory int `envconfig:"LEASE_HISTORY" default:"50" desc:"ended leases kept per task for GET /sluice/v1/connectors/{name}/leases and the console"`
	// CostModel is lambda or fargate; empty: fargate with the pull invoker
	// (long-lived workers), lambda otherwise.
	CostModel string `envconfig:"COST_MODEL" desc:"price leases as Lambda invocations (lambda) or as time on Fargate workers (fargate); default fargate with SLUICE_INVOKER=pull, else lambda"`
	// CostArch is arm64 or x86_64.
	CostArch string `envconfig:"COST_ARCH" default:"arm64" desc:"CPU architecture priced: arm64 or x86_64 (template.yaml's functions are arm64)"`
	// CostSourceMemoryMB and CostSinkMemoryMB are the functions' memory.
	CostSourceMemoryMB int `envconfig:"COST_SOURCE_MEMORY_MB" default:"512" desc:"memory (MiB) of the source-poll function, as template.yaml's SourcePollMemorySize"`
	CostSinkMemoryMB   int `envconfig:"COST_SINK_MEMORY_MB" default:"1024" desc:"memory (MiB) of the sink-batch function, as template.yaml's SinkBatchMemorySize"`
	// CostWorkerVCPU and CostWorkerMemoryMB are a Fargate worker's size.
	CostWorkerVCPU     float64 `envconfig:"COST_WORKER_VCPU" default:"0.5" desc:"vCPUs of a long-lived worker's Fargate task (cost model fargate)"`
	CostWorkerMemoryMB int     `envconfig:"COST_WORKER_MEMORY_MB" default:"1024" desc:"memory (MiB) of a long-lived worker's Fargate task (cost model fargate)"`
	Prices
}

// Prices are list prices in USD; a zero price takes its default (AWS's
// on-demand prices in us-east-1).
type Prices struct {
	LambdaArm64GBSecond  float64 `envconfig:"PRICE_LAMBDA_ARM64_GB_SECOND" default:"0.0000133334" desc:"USD per GB-second of Lambda on arm64"`
	LambdaX86GBSecond    float64 `envconfig:"PRICE_LAMBDA_X86_GB_SECOND" default:"0.0000166667" desc:"USD per GB-second of Lambda on x86_64"`
	LambdaRequest        float64 `envconfig:"PRICE_LAMBDA_REQUEST" default:"0.0000002" desc:"USD per Lambda request"`
	FargateArm64VCPUHour float64 `envconfig:"PRICE_FARGATE_ARM64_VCPU_HOUR" default:"0.03238" desc:"USD per vCPU-hour of Fargate on arm64"`
	FargateArm64GBHour   float64 `envconfig:"PRICE_FARGATE_ARM64_GB_HOUR" default:"0.00356" desc:"USD per GB-hour of Fargate on arm64"`
	FargateX86VCPUHour   float64 `envconfig:"PRICE_FARGATE_X86_VCPU_HOUR" default:"0.04048" desc:"USD per vCPU-hour of Fargate on x86_64"`
	FargateX86GBHour     float64 `envconfig:"PRICE_FARGATE_X86_GB_HOUR" default:"0.004445" desc:"USD per GB-hour of Fargate on x86_64"`
}

// DefaultLeaseHistory is SLUICE_LEASE_HISTORY's default.
const DefaultLeaseHistory = 50

// withDefaults fills zero fields; invoker picks the model when none is set.
func (c Cost) withDefaults(invoker string) Cost {
	setInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setFloat := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	setInt(&c.LeaseHistory, DefaultLeaseHistory)
	if c.CostModel == "" {
		c.CostModel = CostModelLambda
		if invoker == "pull" {
			c.CostModel = CostModelFargate
		}
	}
	if c.CostArch == "" {
		c.CostArch = "arm64"
	}
	setInt(&c.CostSourceMemoryMB, 512)
	setInt(&c.CostSinkMemoryMB, 1024)
	setFloat(&c.CostWorkerVCPU, 0.5)
	setInt(&c.CostWorkerMemoryMB, 1024)
	p := &c.Prices
	setFloat(&p.LambdaArm64GBSecond, DefaultPriceLambdaArm64GBSecond)
	setFloat(&p.LambdaX86GBSecond, DefaultPriceLambdaX86GBSecond)
	setFloat(&p.LambdaRequest, DefaultPriceLambdaRequest)
	setFloat(&p.FargateArm64VCPUHour, DefaultPriceFargateArm64VCPUHour)
	setFloat(&p.FargateArm64GBHour, DefaultPriceFargateArm64GBHour)
	setFloat(&p.FargateX86VCPUHour, DefaultPriceFargateX86VCPUHour)
	setFloat(&p.FargateX86GBHour, DefaultPriceFargateX86GBHour)
	return c
}

// problems names every bad setting.
func (c Cost) problems() []error {
	var out []error
	switch c.CostModel {
	case "", CostModelLambda, CostModelFargate:
	default:
		out = append(out, fmt.Errorf("%s %q: want lambda or fargate", env.Var(&c, &c.CostModel), c.CostModel))
	}
	switch c.CostArch {
	case "", "arm64", "x86_64":
	default:
		out = append(out, fmt.Errorf("%s %q: want arm64 or x86_64", env.Var(&c, &c.CostArch), c.CostArch))
	}
	for _, n := range []struct {
		field any
		v     float64
	}{
		{&c.LeaseHistory, float64(c.LeaseHistory)},
		{&c.CostSourceMemoryMB, float64(c.CostSourceMemoryMB)},
		{&c.CostSinkMemoryMB, float64(c.CostSinkMemoryMB)},
		{&c.CostWorkerVCPU, c.CostWorkerVCPU},
		{&c.CostWorkerMemoryMB, float64(c.CostWorkerMemoryMB)},
		{&c.LambdaArm64GBSecond, c.LambdaArm64GBSecond},
		{&c.LambdaX86GBSecond, c.LambdaX86GBSecond},
		{&c.LambdaRequest, c.LambdaRequest},
		{&c.FargateArm64VCPUHour, c.FargateArm64VCPUHour},
		{&c.FargateArm64GBHour, c.FargateArm64GBHour},
		{&c.FargateX86VCPUHour, c.FargateX86VCPUHour},
		{&c.FargateX86GBHour, c.FargateX86GBHour},
	} {
		if n.v < 0 || math.IsNaN(n.v) || math.IsInf(n.v, 0) {
			out = append(out, fmt.Errorf("%s %v must not be negative", env.Var(&c, n.field), n.v))
		}
	}
	return out
}

// Charge is the estimated cost of one lease.
type Charge struct {
	// MemoryMB is the memory the lease ran with (function or worker).
	MemoryMB int
	// BilledSeconds is the invocation time billed (Lambda rounds up to the
	// millisecond).
	BilledSeconds float64
	// GBSeconds is BilledSeconds times MemoryMB/1024.
	GBSeconds float64
	// Requests is 1 for a Lambda invocation, 0 on a worker.
	Requests int
	// USD is the estimated price.
	USD float64
}

// Price estimates what a lease of kind that took took costs, after
// withDefaults.
func (c Cost) Price(kind lease.Kind, took time.Duration) Charge {
	took = max(took, 0)
	if c.CostModel == CostModelFargate {
		gb := float64(c.CostWorkerMemoryMB) / 1024
		s := took.Seconds()
		vcpuHour, gbHour := c.FargateArm64VCPUHour, c.FargateArm64GBHour
		if c.CostArch == "x86_64" {
			vcpuHour, gbHour = c.FargateX86VCPUHour, c.FargateX86GBHour
		}
		return Charge{MemoryMB: c.CostWorkerMemoryMB, BilledSeconds: s, GBSeconds: s * gb,
			USD: s / 3600 * (c.CostWorkerVCPU*vcpuHour + gb*gbHour)}
	}
	mb := c.CostSourceMemoryMB
	if kind == lease.KindSink {
		mb = c.CostSinkMemoryMB
	}
	ms := (took + time.Millisecond - 1) / time.Millisecond
	s := float64(ms) / 1000
	gbs := s * float64(mb) / 1024
	perGBs := c.LambdaArm64GBSecond
	if c.CostArch == "x86_64" {
		perGBs = c.LambdaX86GBSecond
	}
	return Charge{MemoryMB: mb, BilledSeconds: s, GBSeconds: gbs, Requests: 1, USD: gbs*perGBs + c.LambdaRequest}
}
