package datasets

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// toySet returns a Set of n examples of 2x2 pixels in which pixel j of
// example i is i + j/10, and the label of example i is i%3.
func toySet(n int) *Set {
	s := &Set{Name: "toy", Height: 2, Width: 2, Features: 4, Classes: 3,
		X: make([]float64, n*4), Labels: make([]int, n)}
	for i := range n {
		for j := range 4 {
			s.X[i*4+j] = float64(i) + float64(j)/10
		}
		s.Labels[i] = i % 3
	}
	return s
}

func TestLimit(t *testing.T) {
	tests := []struct {
		n, want int
	}{
		{-1, 5}, {0, 5}, {1, 1}, {3, 3}, {5, 5}, {6, 5}, {math.MaxInt, 5},
	}
	for _, tt := range tests {
		s := toySet(5)
		l := s.Limit(tt.n)
		if l.Len() != tt.want || len(l.X) != tt.want*4 {
			t.Errorf("Limit(%d): Len %d, len(X) %d; want %d, %d", tt.n, l.Len(), len(l.X), tt.want, tt.want*4)
			continue
		}
		if l.Name != s.Name || l.Height != 2 || l.Width != 2 || l.Features != 4 || l.Classes != 3 {
			t.Errorf("Limit(%d) changed the geometry: %+v", tt.n, *l)
		}
		if !slices.Equal(l.X, s.X[:tt.want*4]) || !slices.Equal(l.Labels, s.Labels[:tt.want]) {
			t.Errorf("Limit(%d) holds different examples", tt.n)
		}
		// Shares memory with s ...
		l.X[0], l.Labels[0] = 42, 2
		if s.X[0] != 42 || s.Labels[0] != 2 {
			t.Errorf("Limit(%d) does not share memory with the original", tt.n)
		}
		// ... but appending cannot overwrite s.
		if tt.want < 5 {
			_ = append(l.X, -1)
			_ = append(l.Labels, -1)
			if s.X[tt.want*4] == -1 || s.Labels[tt.want] == -1 {
				t.Errorf("appending to Limit(%d) overwrote the original", tt.n)
			}
		}
	}
}

func TestLimitEdgeCases(t *testing.T) {
	var nilSet *Set
	if nilSet.Limit(3) != nil || nilSet.Len() != 0 {
		t.Errorf("nil Set: Limit or Len misbehaves")
	}
	// A Set whose X is shorter than Labels implies must not make Limit panic.
	s := toySet(5)
	s.X = s.X[:9]
	if l := s.Limit(4); l.Len() != 2 || len(l.X) != 8 {
		t.Errorf("inconsistent Set: Limit(4) gives Len %d, len(X) %d; want 2, 8", l.Len(), len(l.X))
	}
}

func TestGather(t *testing.T) {
	s := toySet(6)
	x := make([]float64, 3*4+2)
	labels := make([]int, 4)
	for i := range x {
		x[i] = -7
	}
	labels[3] = -7
	if err := s.Gather([]int{4, 0, 4}, x, labels); err != nil {
		t.Fatal(err)
	}
	want := []float64{4, 4.1, 4.2, 4.3, 0, 0.1, 0.2, 0.3, 4, 4.1, 4.2, 4.3, -7, -7}
	if !slices.Equal(x, want) {
		t.Errorf("x = %v, want %v", x, want)
	}
	if want := []int{1, 0, 1, -7}; !slices.Equal(labels, want) {
		t.Errorf("labels = %v, want %v", labels, want)
	}
	// nil labels copies pixels only.
	if err := s.Gather([]int{5}, x, nil); err != nil || x[0] != 5 {
		t.Errorf("Gather with nil labels: x[0] = %v, err %v; want 5, nil", x[0], err)
	}
	// An empty batch is fine.
	if err := s.Gather(nil, nil, nil); err != nil {
		t.Errorf("Gather(nil, nil, nil) = %v", err)
	}
}

func TestGatherErrors(t *testing.T) {
	inconsistent := toySet(3)
	inconsistent.X = inconsistent.X[:5]
	tests := []struct {
		name    string
		s       *Set
		idx     []int
		x       []float64
		labels  []int
		mention string
	}{
		{"nil set", nil, []int{0}, make([]float64, 4), nil, "nil Set"},
		{"negative index", toySet(3), []int{0, -1}, make([]float64, 8), make([]int, 2), "idx[1] = -1"},
		{"index too large", toySet(3), []int{3}, make([]float64, 4), make([]int, 1), "idx[0] = 3 out of range [0, 3)"},
		{"short x", toySet(3), []int{0, 1}, make([]float64, 7), make([]int, 2), "len(x) = 7"},
		{"short labels", toySet(3), []int{0, 1}, make([]float64, 8), make([]int, 1), "len(labels) = 1"},
		{"inconsistent set", inconsistent, []int{0}, make([]float64, 4), nil, "inconsistent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := slices.Clone(tt.x)
			err := tt.s.Gather(tt.idx, x, tt.labels)
			if err == nil {
				t.Fatal("Gather succeeded, want error")
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
			if !slices.Equal(x, tt.x) {
				t.Errorf("Gather wrote to x before failing")
			}
		})
	}
}

func TestGatherDoesNotAllocate(t *testing.T) {
	s := toySet(100)
	idx := []int{3, 99, 0, 42, 7, 7, 12, 50}
	x := make([]float64, len(idx)*s.Features)
	labels := make([]int, len(idx))
	allocs := testing.AllocsPerRun(100, func() {
		if err := s.Gather(idx, x, labels); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Gather allocates %v times per call, want 0", allocs)
	}
}
