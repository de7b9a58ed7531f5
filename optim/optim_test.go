package optim

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

var dtypes = []tensor.Dtype{tensor.Float64, tensor.Float32}

// dense returns a tensor of dtype dt and shape shape holding vals.
func dense(dt tensor.Dtype, shape []int, vals ...float64) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(vals))
		for i, v := range vals {
			f[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), vals...)))
}

// vec returns a vector of dtype dt holding vals.
func vec(dt tensor.Dtype, vals ...float64) *tensor.Dense {
	return dense(dt, []int{len(vals)}, vals...)
}

// values returns t's values as float64.
func values(t *tensor.Dense) []float64 {
	if t.Dtype() == tensor.Float32 {
		out := make([]float64, 0, len(t.Float32s()))
		for _, v := range t.Float32s() {
			out = append(out, float64(v))
		}
		return out
	}
	return append([]float64(nil), t.Float64s()...)
}

func mustNew(t testing.TB, c Config) Optimizer {
	t.Helper()
	o, err := New(c)
	if err != nil {
		t.Fatalf("New(%+v): %v", c, err)
	}
	return o
}

func TestNew(t *testing.T) {
	tests := []struct {
		c    Config
		want string // error; "" for none
	}{
		{Config{Kind: "sgd", LearningRate: 0.01}, ""},
		{Config{Kind: "momentum", LearningRate: 0.01, WeightDecay: 1e-4}, ""},
		{Config{Kind: "adagrad", LearningRate: 1}, ""},
		{Config{Kind: "adam", LearningRate: 1e-3}, ""},
		{Config{Kind: "rmsprop", LearningRate: 0.01}, `unknown optimizer "rmsprop" (want sgd | momentum | adagrad | adam)`},
		{Config{Kind: "", LearningRate: 0.01}, `unknown optimizer "" (want sgd | momentum | adagrad | adam)`},
		{Config{Kind: "SGD", LearningRate: 0.01}, `unknown optimizer "SGD" (want sgd | momentum | adagrad | adam)`},
		{Config{Kind: "sgd", LearningRate: 0}, "sgd: learning rate must be > 0 and finite, got 0"},
		{Config{Kind: "sgd", LearningRate: -1}, "sgd: learning rate must be > 0 and finite, got -1"},
		{Config{Kind: "adam", LearningRate: math.NaN()}, "adam: learning rate must be > 0 and finite, got NaN"},
		{Config{Kind: "adam", LearningRate: math.Inf(1)}, "adam: learning rate must be > 0 and finite, got +Inf"},
		{Config{Kind: "sgd", LearningRate: 1, WeightDecay: -1e-4}, "sgd: weight decay must be >= 0 and finite, got -0.0001"},
		{Config{Kind: "sgd", LearningRate: 1, WeightDecay: math.NaN()}, "sgd: weight decay must be >= 0 and finite, got NaN"},
		{Config{Kind: "sgd", LearningRate: 1, WeightDecay: math.Inf(1)}, "sgd: weight decay must be >= 0 and finite, got +Inf"},
	}
	for _, tt := range tests {
		o, err := New(tt.c)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("New(%+v): %v", tt.c, err)
		case tt.want == "" && (o.LearningRate() != tt.c.LearningRate || o.Updates() != 0):
			t.Errorf("New(%+v): LearningRate %v, Updates %d", tt.c, o.LearningRate(), o.Updates())
		case tt.want != "" && (err == nil || err.Error() != tt.want):
			t.Errorf("New(%+v) error = %v, want %q", tt.c, err, tt.want)
		}
	}
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		initial, factor float64
		every, epoch    int
		want            float64
	}{
		{0.01, 0.8, 10, 1, 0.01},
		{0.01, 0.8, 10, 5, 0.01},
		{0.01, 0.8, 10, 10, 0.01},
		{0.01, 0.8, 10, 11, 0.008},
		{0.01, 0.8, 10, 20, 0.008},
		{0.01, 0.8, 10, 21, 0.01 * 0.8 * 0.8},
		{0.01, 0.8, 10, 31, 0.01 * 0.8 * 0.8 * 0.8},
		{0.01, 0.8, 20, 10, 0.01}, // 10 epochs: never fires
		{0.01, 0.8, 20, 21, 0.008},
		{0.1, 0.5, 1, 1, 0.1},
		{0.1, 0.5, 1, 2, 0.05},
		{0.1, 0.5, 1, 4, 0.0125},
		{0.01, 0.8, 0, 1000, 0.01}, // every 0: constant
		{0.01, 0.8, -3, 1000, 0.01},
		{0.01, 0.8, 10, 0, 0.01}, // epoch < 1 counts as 1
		{0.01, 0.8, 10, -5, 0.01},
		{0.01, 1, 1, 1 << 20, 0.01},
		{1, 0.5, 1, 1 << 20, 0}, // underflows
	}
	for _, tt := range tests {
		// Exact, except for the products written with repeated
		// multiplication in the table, which Schedule matches bit for bit.
		if got := Schedule(tt.initial, tt.factor, tt.every, tt.epoch); got != tt.want {
			t.Errorf("Schedule(%v, %v, %d, %d) = %v, want %v", tt.initial, tt.factor, tt.every, tt.epoch, got, tt.want)
		}
	}
}

// TestScheduleMatchesLoop checks that Schedule agrees bit for bit with a
// training loop that multiplies the rate after every decaying epoch.
func TestScheduleMatchesLoop(t *testing.T) {
	for _, every := range []int{1, 3, 10, 20} {
		for _, factor := range []float64{0.8, 0.95, 0.1, 1} {
			lr := 0.01
			for e := 1; e <= 200; e++ {
				if got := Schedule(0.01, factor, every, e); got != lr {
					t.Fatalf("Schedule(0.01, %v, %d, %d) = %v, loop has %v", factor, every, e, got, lr)
				}
				if e%every == 0 { // after epoch e completes
					lr *= factor
				}
			}
		}
	}
}

// TestStep checks hand-computed updates of every kind in both dtypes.
func TestStep(t *testing.T) {
	const eps = 1e-8
	tests := []struct {
		name  string
		c     Config
		w     []float64   // initial parameter
		grads [][]float64 // one per step; the last repeats up to steps
		steps int
		want  []float64
	}{
		{
			name:  "sgd",
			c:     Config{Kind: "sgd", LearningRate: 0.1},
			w:     []float64{1, -2},
			grads: [][]float64{{0.5, 0.25}},
			steps: 1,
			want:  []float64{0.95, -2.025},
		},
		{
			name:  "sgd two steps",
			c:     Config{Kind: "sgd", LearningRate: 0.5},
			w:     []float64{1, -2},
			grads: [][]float64{{0.5, 0.25}, {-1, 2}},
			steps: 2,
			want:  []float64{1 - 0.25 + 0.5, -2 - 0.125 - 1},
		},
		{
			name:  "sgd weight decay",
			c:     Config{Kind: "sgd", LearningRate: 0.1, WeightDecay: 0.1},
			w:     []float64{1, -2},
			grads: [][]float64{{0.5, 0.25}},
			steps: 1,
			want:  []float64{1 - 0.1*(0.5+0.1), -2 - 0.1*(0.25-0.2)},
		},
		{
			// Updates 1..99 are plain SGD: 99 · 0.125 = 12.375.
			name:  "momentum before the switch",
			c:     Config{Kind: "momentum", LearningRate: 0.125},
			w:     []float64{0, 1},
			grads: [][]float64{{1, -1}},
			steps: 99,
			want:  []float64{-12.375, 13.375},
		},
		{
			// Update 100: v = −0.125 (v starts at 0).
			name:  "momentum update 100",
			c:     Config{Kind: "momentum", LearningRate: 0.125},
			w:     []float64{0, 1},
			grads: [][]float64{{1, -1}},
			steps: 100,
			want:  []float64{-12.5, 13.5},
		},
		{
			// Update 101: v = 0.9·(−0.125) − 0.125 = −0.2375.
			// Update 102: v = 0.9·(−0.2375) − 0.125 = −0.33875.
			name:  "momentum updates 101 and 102",
			c:     Config{Kind: "momentum", LearningRate: 0.125},
			w:     []float64{0, 1},
			grads: [][]float64{{1, -1}},
			steps: 102,
			want:  []float64{-12.5 - 0.2375 - 0.33875, 13.5 + 0.2375 + 0.33875},
		},
		{
			// The velocity ignores the gradients of updates 1..99.
			// 99: w = −49.5; 100: v = 0 − 0.5·(−2) = 1, w = −48.5;
			// 101: v = 0.9 + 1 = 1.9, w = −46.6.
			name:  "momentum velocity starts at update 100",
			c:     Config{Kind: "momentum", LearningRate: 0.5},
			w:     []float64{0},
			grads: append(repeat([]float64{1}, 99), []float64{-2}),
			steps: 101,
			want:  []float64{-46.6},
		},
		{
			name:  "momentum weight decay",
			c:     Config{Kind: "momentum", LearningRate: 0.1, WeightDecay: 0.5},
			w:     []float64{2},
			grads: [][]float64{{1}},
			steps: 1,
			want:  []float64{2 - 0.1*(1+0.5*2)},
		},
		{
			// w stays 0 through update 99; 100: g = 1, v = −0.5, w = −0.5;
			// 101: g = 0 + 0.5·(−0.5) = −0.25, v = −0.45 + 0.125 = −0.325.
			name:  "momentum weight decay after update 100",
			c:     Config{Kind: "momentum", LearningRate: 0.5, WeightDecay: 0.5},
			w:     []float64{0},
			grads: append(repeat([]float64{0}, 99), []float64{1}, []float64{0}),
			steps: 101,
			want:  []float64{-0.825},
		},
		{
			// r = 9, 16 then 25, 25.
			name:  "adagrad",
			c:     Config{Kind: "adagrad", LearningRate: 0.1},
			w:     []float64{1, -1},
			grads: [][]float64{{3, 4}, {4, 3}},
			steps: 2,
			want: []float64{
				1 - 0.1*3/(eps+3) - 0.1*4/(eps+5),
				-1 - 0.1*4/(eps+4) - 0.1*3/(eps+5),
			},
		},
		{
			// g = 1e−8: r = 1e−16, sqrt(r) = 1e−8, so the step is
			// lr·1e−8/(1e−8 + 1e−8) = lr/2. With the epsilon inside the
			// square root it would be about lr·1e−4.
			name:  "adagrad epsilon outside the square root",
			c:     Config{Kind: "adagrad", LearningRate: 1},
			w:     []float64{0},
			grads: [][]float64{{1e-8}},
			steps: 1,
			want:  []float64{-0.5},
		},
		{
			name:  "adagrad weight decay",
			c:     Config{Kind: "adagrad", LearningRate: 0.1, WeightDecay: 0.5},
			w:     []float64{2},
			grads: [][]float64{{2}}, // g = 3, r = 9
			steps: 1,
			want:  []float64{2 - 0.1*3/(eps+3)},
		},
		{
			// Update 1: m̂ = g, v̂ = g², so the step is lr·g/(|g| + eps).
			name:  "adam one step",
			c:     Config{Kind: "adam", LearningRate: 0.1},
			w:     []float64{1, -2},
			grads: [][]float64{{0.5, -0.25}},
			steps: 1,
			want:  []float64{1 - 0.1*0.5/(0.5+eps), -2 + 0.1*0.25/(0.25+eps)},
		},
		{
			// Update 2, first element (same gradient): m̂ = 0.5, v̂ = 0.25.
			// Second element, g = −0.25 then 0.75:
			// m = 0.9·(−0.025) + 0.075 = 0.0525, m̂ = 0.0525/0.19;
			// v = 0.999·0.0000625 + 0.001·0.5625 = 0.0006249375, v̂ = v/0.001999.
			name:  "adam bias correction",
			c:     Config{Kind: "adam", LearningRate: 0.1},
			w:     []float64{1, -2},
			grads: [][]float64{{0.5, -0.25}, {0.5, 0.75}},
			steps: 2,
			want: []float64{
				1 - 2*(0.1*0.5/(0.5+eps)),
				-2 + 0.1*0.25/(0.25+eps) - 0.1*(0.0525/0.19)/(math.Sqrt(0.0006249375/0.001999)+eps),
			},
		},
		{
			name:  "adam weight decay",
			c:     Config{Kind: "adam", LearningRate: 0.1, WeightDecay: 0.5},
			w:     []float64{-2},
			grads: [][]float64{{0.5}}, // g = 0.5 − 1 = −0.5
			steps: 1,
			want:  []float64{-2 + 0.1*0.5/(0.5+eps)},
		},
	}
	for _, tt := range tests {
		for _, dt := range dtypes {
			t.Run(tt.name+"/"+dt.String(), func(t *testing.T) {
				o := mustNew(t, tt.c)
				w := vec(dt, tt.w...)
				for s := 0; s < tt.steps; s++ {
					gv := tt.grads[min(s, len(tt.grads)-1)]
					g := vec(dt, gv...)
					if err := o.Step([]*tensor.Dense{w}, []*tensor.Dense{g}); err != nil {
						t.Fatalf("step %d: %v", s+1, err)
					}
					if got := values(g); !equal(got, gv, dt) {
						t.Fatalf("step %d changed the gradient to %v", s+1, got)
					}
				}
				if o.Updates() != tt.steps {
					t.Errorf("Updates() = %d, want %d", o.Updates(), tt.steps)
				}
				if got := values(w); !near(got, tt.want, dt) {
					t.Errorf("after %d steps got %.17g, want %.17g", tt.steps, got, tt.want)
				}
			})
		}
	}
}

// repeat returns n copies of v.
func repeat(v []float64, n int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// equal reports whether got equals want rounded to dtype dt.
func equal(got, want []float64, dt tensor.Dtype) bool {
	for i := range got {
		w := want[i]
		if dt == tensor.Float32 {
			w = float64(float32(w))
		}
		if got[i] != w {
			return false
		}
	}
	return len(got) == len(want)
}

// near reports whether got is within rounding error of want in dtype dt.
func near(got, want []float64, dt tensor.Dtype) bool {
	tol := 1e-13
	if dt == tensor.Float32 {
		tol = 1e-6
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			return false
		}
	}
	return len(got) == len(want)
}

// TestStepFloat32Arithmetic checks that a float32 parameter is updated in
// float32 arithmetic, rounding each product as it goes.
func TestStepFloat32Arithmetic(t *testing.T) {
	o := mustNew(t, Config{Kind: "sgd", LearningRate: 0.1, WeightDecay: 0.3})
	w32, g32 := float32(1.7), float32(0.37)
	lr, wd := float32(0.1), float32(0.3)
	want := w32 - lr*(g32+wd*w32)
	w := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{w32}))
	g := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{g32}))
	if err := o.Step([]*tensor.Dense{w}, []*tensor.Dense{g}); err != nil {
		t.Fatal(err)
	}
	if got := w.Float32s()[0]; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestStepShapes checks scalars, matrices and several parameters of mixed
// dtypes in one Step.
func TestStepShapes(t *testing.T) {
	o := mustNew(t, Config{Kind: "sgd", LearningRate: 0.5})
	s := tensor.New(tensor.FromScalar(2.0))
	gs := tensor.New(tensor.FromScalar(1.0))
	m := dense(tensor.Float32, []int{2, 2}, 1, 2, 3, 4)
	gm := dense(tensor.Float32, []int{2, 2}, 2, 2, 2, 2)
	if err := o.Step([]*tensor.Dense{s, m}, []*tensor.Dense{gs, gm}); err != nil {
		t.Fatal(err)
	}
	if got := values(s); got[0] != 1.5 {
		t.Errorf("scalar: got %v, want 1.5", got)
	}
	if got, want := values(m), []float64{0, 1, 2, 3}; !equal(got, want, tensor.Float32) {
		t.Errorf("matrix: got %v, want %v", got, want)
	}
}

// TestStepErrors checks that bad input is an error that changes nothing.
func TestStepErrors(t *testing.T) {
	f64, f32 := tensor.Float64, tensor.Float32
	transposed := func() *tensor.Dense {
		d := dense(f64, []int{3, 2}, 1, 2, 3, 4, 5, 6)
		d.T()
		return d
	}
	tests := []struct {
		name          string
		lr            float64 // replaces the learning rate when non-zero
		first         bool    // take a good step first, creating the state
		params, grads []*tensor.Dense
		want          string
	}{
		{name: "no parameters", want: "no parameters"},
		{
			name:   "count",
			params: []*tensor.Dense{vec(f64, 1), vec(f64, 2)},
			grads:  []*tensor.Dense{vec(f64, 1)},
			want:   "got 1 gradients for 2 parameters",
		},
		{
			name:   "nil parameter",
			params: []*tensor.Dense{vec(f64, 1), nil},
			grads:  []*tensor.Dense{vec(f64, 1), vec(f64, 1)},
			want:   "parameter 1: nil tensor",
		},
		{
			name:   "nil gradient",
			params: []*tensor.Dense{vec(f64, 1)},
			grads:  []*tensor.Dense{nil},
			want:   "gradient 0: nil tensor",
		},
		{
			name:   "int dtype",
			params: []*tensor.Dense{vec(f64, 1), tensor.New(tensor.WithShape(1), tensor.WithBacking([]int{1}))},
			grads:  []*tensor.Dense{vec(f64, 1), vec(f64, 1)},
			want:   "parameter 1: dtype int is not supported (want float64 or float32)",
		},
		{
			name:   "empty tensor",
			params: []*tensor.Dense{{}},
			grads:  []*tensor.Dense{vec(f64, 1)},
			want:   "parameter 0: tensor has no dtype",
		},
		{
			name:   "dtype mismatch",
			params: []*tensor.Dense{vec(f64, 1, 2)},
			grads:  []*tensor.Dense{vec(f32, 1, 2)},
			want:   "gradient 0 is (2) float32, parameter 0 is (2) float64",
		},
		{
			name:   "shape mismatch",
			params: []*tensor.Dense{vec(f64, 1, 2), dense(f64, []int{2, 2}, 1, 2, 3, 4)},
			grads:  []*tensor.Dense{vec(f64, 1, 2), vec(f64, 1, 2, 3, 4)},
			want:   "gradient 1 is (4) float64, parameter 1 is (2, 2) float64",
		},
		{
			name:   "row is not a vector",
			params: []*tensor.Dense{dense(f64, []int{1, 3}, 1, 2, 3)},
			grads:  []*tensor.Dense{vec(f64, 1, 2, 3)},
			want:   "gradient 0 is (3) float64, parameter 0 is (1, 3) float64",
		},
		{
			name:   "transposed",
			params: []*tensor.Dense{dense(f64, []int{2, 3}, 1, 2, 3, 4, 5, 6)},
			grads:  []*tensor.Dense{transposed()},
			want:   "gradient 0: (2, 3) tensor is not contiguous (transposed, strided or masked)",
		},
		{
			name:   "NaN learning rate",
			lr:     math.NaN(),
			params: []*tensor.Dense{vec(f64, 1)},
			grads:  []*tensor.Dense{vec(f64, 1)},
			want:   "learning rate must be >= 0 and finite, got NaN",
		},
		{
			name:   "infinite learning rate",
			lr:     math.Inf(1),
			params: []*tensor.Dense{vec(f64, 1)},
			grads:  []*tensor.Dense{vec(f64, 1)},
			want:   "learning rate must be >= 0 and finite, got +Inf",
		},
		{
			name:   "negative learning rate",
			lr:     -0.1,
			params: []*tensor.Dense{vec(f64, 1)},
			grads:  []*tensor.Dense{vec(f64, 1)},
			want:   "learning rate must be >= 0 and finite, got -0.1",
		},
		{
			name:   "count differs from the state",
			first:  true,
			params: []*tensor.Dense{vec(f64, 1, 2), vec(f64, 1, 2)},
			grads:  []*tensor.Dense{vec(f64, 1, 2), vec(f64, 1, 2)},
			want:   "got 2 parameters, the state holds 1",
		},
		{
			name:   "shape differs from the state",
			first:  true,
			params: []*tensor.Dense{vec(f64, 1, 2, 3)},
			grads:  []*tensor.Dense{vec(f64, 1, 2, 3)},
			want:   "parameter 0 is (3) float64, the state holds (2) float64",
		},
		{
			name:   "dtype differs from the state",
			first:  true,
			params: []*tensor.Dense{vec(f32, 1, 2)},
			grads:  []*tensor.Dense{vec(f32, 1, 2)},
			want:   "parameter 0 is (2) float32, the state holds (2) float64",
		},
	}
	for _, kind := range []string{"sgd", "momentum", "adagrad", "adam"} {
		for _, tt := range tests {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				o := mustNew(t, Config{Kind: kind, LearningRate: 0.1, WeightDecay: 0.01})
				if tt.first {
					if err := o.Step([]*tensor.Dense{vec(f64, 1, 2)}, []*tensor.Dense{vec(f64, 3, 4)}); err != nil {
						t.Fatal(err)
					}
				}
				if tt.lr != 0 {
					o.SetLearningRate(tt.lr)
				}
				before := snapshot(tt.params)
				state, err := o.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				err = o.Step(tt.params, tt.grads)
				if err == nil || !strings.HasSuffix(err.Error(), ": "+tt.want) || !strings.HasPrefix(err.Error(), kind+": step ") {
					t.Fatalf("Step error = %v, want %q", err, kind+": step N: "+tt.want)
				}
				if after := snapshot(tt.params); !sameBits(before, after) {
					t.Errorf("a failed Step changed the parameters from %v to %v", before, after)
				}
				if after, _ := o.MarshalBinary(); string(after) != string(state) {
					t.Errorf("a failed Step changed the state")
				}
			})
		}
	}
}

// snapshot copies the values of the non-nil float tensors in ts.
func snapshot(ts []*tensor.Dense) [][]float64 {
	var out [][]float64
	for _, d := range ts {
		if d != nil && (d.Dtype() == tensor.Float64 || d.Dtype() == tensor.Float32) {
			out = append(out, values(d))
		}
	}
	return out
}

// sameBits reports whether a and b hold the same bits.
func sameBits(a, b [][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) {
				return false
			}
		}
	}
	return true
}

// TestStepAllocs checks that Step does not allocate after its first call.
func TestStepAllocs(t *testing.T) {
	for _, kind := range []string{"sgd", "momentum", "adagrad", "adam"} {
		t.Run(kind, func(t *testing.T) {
			o := mustNew(t, Config{Kind: kind, LearningRate: 0.01, WeightDecay: 1e-4})
			params := []*tensor.Dense{
				dense(tensor.Float64, []int{3, 4}, make([]float64, 12)...),
				vec(tensor.Float32, 1, 2, 3),
				vec(tensor.Float64, 0.5),
			}
			grads := []*tensor.Dense{
				dense(tensor.Float64, []int{3, 4}, make([]float64, 12)...),
				vec(tensor.Float32, 0.1, 0.2, 0.3),
				vec(tensor.Float64, -1),
			}
			if err := o.Step(params, grads); err != nil {
				t.Fatal(err)
			}
			// 151 runs: momentum crosses update 100.
			allocs := testing.AllocsPerRun(150, func() {
				if err := o.Step(params, grads); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("Step allocates %v times per call", allocs)
			}
			if o.Updates() != 152 {
				t.Errorf("Updates() = %d, want 152", o.Updates())
			}
		})
	}
}

// TestStepView checks that a contiguous view (rows of a matrix) is updated
// in place in its backing tensor, and a strided one is refused.
func TestStepView(t *testing.T) {
	m := dense(tensor.Float64, []int{3, 2}, 1, 2, 3, 4, 5, 6)
	rows, err := m.Slice(tensor.S(1, 3))
	if err != nil {
		t.Fatal(err)
	}
	o := mustNew(t, Config{Kind: "sgd", LearningRate: 1})
	g := dense(tensor.Float64, []int{2, 2}, 1, 1, 1, 1)
	if err := o.Step([]*tensor.Dense{rows.(*tensor.Dense)}, []*tensor.Dense{g}); err != nil {
		t.Fatal(err)
	}
	if got, want := values(m), []float64{1, 2, 2, 3, 4, 5}; !equal(got, want, tensor.Float64) {
		t.Errorf("got %v, want %v", got, want)
	}

	col, err := m.Slice(nil, tensor.S(0))
	if err != nil {
		t.Fatal(err)
	}
	o = mustNew(t, Config{Kind: "sgd", LearningRate: 1})
	err = o.Step([]*tensor.Dense{col.(*tensor.Dense)}, []*tensor.Dense{vec(tensor.Float64, 1, 1, 1)})
	if want := "sgd: step 1: parameter 0: (3) tensor is not contiguous (transposed, strided or masked)"; err == nil || err.Error() != want {
		t.Errorf("Step on a column: error %v, want %q", err, want)
	}
}

// TestNegativeZeroDecay checks that a weight decay of −0 is 0: its states
// restore into an optimizer configured with 0.
func TestNegativeZeroDecay(t *testing.T) {
	a := mustNew(t, Config{Kind: "adam", LearningRate: 1, WeightDecay: math.Copysign(0, -1)})
	state, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := mustNew(t, Config{Kind: "adam", LearningRate: 1}).UnmarshalBinary(state); err != nil {
		t.Error(err)
	}
}
