package attack

import (
	"slices"
	"testing"
)

// TestSquareP checks the schedule of p against the paper's p_selection: the
// divisor p_init/p at iteration it of a budget, the values of the
// reference Python function.
func TestSquareP(t *testing.T) {
	for _, c := range []struct {
		queries, it int
		div         float64
	}{
		{10000, 0, 1}, {10000, 10, 1}, {10000, 11, 2}, {10000, 50, 2}, {10000, 51, 4},
		{10000, 200, 4}, {10000, 201, 8}, {10000, 500, 8}, {10000, 501, 16}, {10000, 1000, 16},
		{10000, 1001, 32}, {10000, 2000, 32}, {10000, 2001, 64}, {10000, 4000, 64}, {10000, 4001, 128},
		{10000, 6000, 128}, {10000, 6001, 256}, {10000, 8000, 256}, {10000, 8001, 512}, {10000, 9998, 512},
		{1000, 0, 1}, {1000, 1, 1}, {1000, 2, 2}, {1000, 5, 2}, {1000, 6, 4}, {1000, 20, 4},
		{1000, 21, 8}, {1000, 100, 16}, {1000, 101, 32}, {1000, 800, 256}, {1000, 801, 512}, {1000, 998, 512},
		{300, 0, 1}, {300, 1, 2}, {300, 2, 4}, {300, 298, 512},
		{7, 0, 1}, {7, 1, 32}, {7, 5, 256},
	} {
		if got, want := squareP(0.05, c.it, c.queries), 0.05/c.div; got != want {
			t.Errorf("squareP(0.05, %d, %d) = %v, want %v", c.it, c.queries, got, want)
		}
	}
}

// countingScorer counts the rows of the Logits and Predict calls of a
// linear model.
type countingScorer struct {
	*linear
	rows int
}

func (m *countingScorer) Logits(x, dst []float64) error {
	m.rows += len(dst) / m.c
	return m.linear.Logits(x, dst)
}

func (m *countingScorer) Predict(x []float64, dst []int) error {
	m.rows += len(dst)
	return m.linear.Predict(x, dst)
}

// TestSquareQueries checks the accounting of queries and successes: each
// image's Queries is within the budget, the model sees exactly one row per
// image for the clean check plus one per counted query, Success is the
// model's verdict on Adv, an image stops at its first success and runs the
// whole budget otherwise, and an image misclassified already is returned
// unchanged without a query.
func TestSquareQueries(t *testing.T) {
	lin, x, labels := separable(64, 3, 60, 3)
	labels[0] = (labels[0] + 1) % 3 // misclassified already
	for _, budget := range []int{1, 2, 50, 1000} {
		m := &countingScorer{linear: lin}
		r, err := Square(m, x, labels, 0.02, SquareOptions{Height: 8, Width: 8, Channels: 1, Queries: budget, Rng: rng(4)})
		if err != nil {
			t.Fatal(err)
		}
		ok, err := Correct(lin, r.Adv, labels)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for i, q := range r.Queries {
			total += q
			switch {
			case q > budget:
				t.Errorf("budget %d: image %d used %d queries", budget, i, q)
			case r.Success[i] == ok[i]:
				t.Errorf("budget %d: image %d: Success %v but the model's verdict on Adv is correct = %v", budget, i, r.Success[i], ok[i])
			case i > 0 && !r.Success[i] && q != budget:
				t.Errorf("budget %d: image %d failed after %d queries, not the whole budget", budget, i, q)
			}
		}
		if m.rows != len(labels)+total {
			t.Errorf("budget %d: the model evaluated %d rows, want %d clean + %d counted queries", budget, m.rows, len(labels), total)
		}
		if r.Queries[0] != 0 || !r.Success[0] || !slices.Equal(r.Adv[:64], x[:64]) {
			t.Errorf("budget %d: the misclassified image was attacked (%d queries)", budget, r.Queries[0])
		}
		if budget == 1 {
			// The stripes alone: every value at the upper or lower end
			// of its interval, the same end down each column.
			for i := 1; i < len(labels); i++ {
				for col := range 8 {
					var up0 bool
					for row := range 8 {
						j := i*64 + row*8 + col
						lo, hi := bounds(x[j], 0.02)
						if v := r.Adv[j]; v != lo && v != hi {
							t.Fatalf("image %d (%d, %d): %v is neither %v nor %v", i, row, col, v, lo, hi)
						}
						if up := r.Adv[j] == hi; row == 0 {
							up0 = up
						} else if up != up0 {
							t.Fatalf("image %d: column %d is not one stripe", i, col)
						}
					}
				}
			}
		}
		t.Logf("budget %d: accuracy %.3f, mean queries %.1f", budget, Accuracy(ok), float64(total)/float64(len(labels)))
	}
}

// TestSquareSeeds checks that the same seed gives the same result and
// different seeds different ones, and that an image's attack does not
// depend on the other images of the batch.
func TestSquareSeeds(t *testing.T) {
	m, x, labels := separable(64, 3, 30, 5)
	run := func(seed uint64, x []float64, labels []int) *SquareResult {
		r, err := Square(m, x, labels, 0.02, SquareOptions{Height: 8, Width: 8, Channels: 1, Queries: 300, Rng: rng(seed)})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := run(1, x, labels), run(1, x, labels), run(2, x, labels)
	if !slices.Equal(a.Adv, b.Adv) || !slices.Equal(a.Queries, b.Queries) || !slices.Equal(a.Success, b.Success) {
		t.Error("the same seed gave different results")
	}
	if slices.Equal(a.Adv, c.Adv) {
		t.Error("different seeds gave the same adversarial images")
	}
	// Image 0 draws from the first stream whatever the batch holds.
	one := run(1, x[:64], labels[:1])
	if !slices.Equal(one.Adv, a.Adv[:64]) || one.Queries[0] != a.Queries[0] {
		t.Error("image 0 alone differs from image 0 in its batch")
	}
}
