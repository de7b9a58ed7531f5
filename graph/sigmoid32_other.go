//go:build !amd64

package graph

// hasAVX2 is false: there is no vector kernel on this architecture, and
// sigmoid32's scalar path does all the work.
var hasAVX2 = false

// sigmoidVec32 writes nothing and returns 0 on this architecture.
func sigmoidVec32(x, y []float32) int { return 0 }
