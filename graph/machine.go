package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// Compile compiles the part of the network's graph that roots depend on into
// a tape machine, to be reused for every pass. Gorgonia panics on a graph it
// cannot compile; that becomes an error here.
func (n *Network) Compile(roots ...*G.Node) (m G.VM, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("compile the graph: %v", r)
		}
	}()
	return G.NewTapeMachine(n.Graph.SubgraphRoots(roots...)), nil
}

// Run runs m once. The node values of the pass stay readable until the
// caller resets m, which it must do before the next pass. A panic inside
// Gorgonia becomes an error.
func Run(m G.VM) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pass: %v", r)
		}
	}()
	if err := m.RunAll(); err != nil {
		return fmt.Errorf("pass: %w", err)
	}
	return nil
}
