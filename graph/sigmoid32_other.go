//go:build !amd64

package graph

// sigmoidVec32 has no vector kernel on this architecture: sigmoid32's
// scalar path does all the work.
func sigmoidVec32(x, y []float32) int { return 0 }
