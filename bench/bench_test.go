package bench

import (
	"fmt"
	"testing"

	"github.com/glr-project/glr/estimators"
	"gorgonia.org/tensor"
)

// The benchmarks time one step per iteration on the 784-500-10 network (and
// LeNet for the convolution step), at batch 64, 256 and 1000, in float64 and
// float32, and report GFLOP/s computed as Network.Flops says, the same for
// raw GEMM and the steps:
//
//	go test -run '^$' -bench . -benchtime 20x ./bench
func benchmark(b *testing.B, net func(tensor.Dtype) Network, stepper func(Network, int) (Stepper, error)) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, batch := range []int{64, 256, 1000} {
			b.Run(fmt.Sprintf("%s/batch=%d", dtypeName(dt), batch), func(b *testing.B) {
				n := net(dt)
				s, err := stepper(n, batch)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Step(); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := s.Step(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(n.Flops(batch)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func dense(dt tensor.Dtype) Network { return Dense(500, dt) }

func BenchmarkRawGEMM(b *testing.B) {
	benchmark(b, dense, func(n Network, batch int) (Stepper, error) { return RawGEMM(n, batch), nil })
}

func BenchmarkGLRStep(b *testing.B) {
	benchmark(b, dense, func(n Network, batch int) (Stepper, error) {
		return NewStep(n, &estimators.GLRSettings{Copies: 1, Baseline: "none", Sampler: "iid"}, batch)
	})
}

func BenchmarkBPStep(b *testing.B) {
	benchmark(b, dense, func(n Network, batch int) (Stepper, error) {
		return NewStep(n, &estimators.BPSettings{Copies: 1}, batch)
	})
}

func BenchmarkConvRawGEMM(b *testing.B) {
	benchmark(b, LeNet, func(n Network, batch int) (Stepper, error) { return RawGEMM(n, batch), nil })
}

func BenchmarkConvGLRStep(b *testing.B) {
	benchmark(b, LeNet, func(n Network, batch int) (Stepper, error) {
		return NewStep(n, &estimators.GLRSettings{Copies: 1, Baseline: "none", Sampler: "iid"}, batch)
	})
}

func BenchmarkConvPooledGLRStep(b *testing.B) {
	benchmark(b, LeNetPooled, func(n Network, batch int) (Stepper, error) {
		return NewStep(n, &estimators.GLRSettings{Copies: 1, Baseline: "none", Sampler: "iid"}, batch)
	})
}

// TestStepsAllocateNothing checks the allocation-free contract the
// benchmarks report, at one small batch.
func TestStepsAllocateNothing(t *testing.T) {
	nets := []Network{Dense(20, tensor.Float64), Dense(20, tensor.Float32), LeNet(tensor.Float64), LeNet(tensor.Float32),
		LeNetPooled(tensor.Float64), LeNetPooled(tensor.Float32)}
	for _, n := range nets {
		for _, s := range []estimators.Settings{
			&estimators.GLRSettings{Copies: 2, Baseline: "none", Sampler: "iid"},
			// The shipped GLR LeNet configs' estimator.
			&estimators.GLRSettings{Copies: 2, Baseline: "leave-one-out", Sampler: "iid", Layerwise: true},
			&estimators.BPSettings{Copies: 1},
		} {
			st, err := NewStep(n, s, 8)
			if err != nil {
				t.Fatal(err)
			}
			st.Step()
			if a := testing.AllocsPerRun(5, func() { st.Step() }); a != 0 {
				t.Errorf("%s %s: %v allocations per step", n.Name, s, a)
			}
		}
	}
}
