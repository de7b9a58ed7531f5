package bench

import (
	"testing"

	"gorgonia.org/tensor"
)

func BenchmarkLRSStep(b *testing.B) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		b.Run(dtypeName(dt), func(b *testing.B) {
			n, s := FaithfulLRS(dt)
			st, err := NewStep(n, s, 128)
			if err != nil {
				b.Fatal(err)
			}
			st.Step()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				st.Step()
			}
			b.ReportMetric(n.Flops(128)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
