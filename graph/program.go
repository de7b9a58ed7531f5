package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Program runs, forward and in dependency order, the part of a graph that
// some root nodes depend on: every op node's op is called on the values its
// inputs took in the same run, and every leaf (an input, a parameter or a
// constant) contributes the value bound to it. Nothing is bound back to the
// nodes; read results with [Program.Value].
//
// The package's own ops write their results into buffers they own, so a run
// of a program made of them allocates nothing. This is the executor behind
// every estimator, for the forward-only GLR pass and for the backward pass of
// backpropagation alike (whose nodes gorgonia.Grad adds to the same graph).
// Gorgonia's tape machine cannot serve here: each RunAll starts a goroutine
// and makes two channels, each instruction appends its inputs to a fresh
// slice, and Reset drops every register, so every built-in op allocates its
// output on every pass. Ops from outside the package run too, at the cost of
// whatever they allocate.
//
// A Program is not safe for concurrent use, and two programs over one
// network share the ops' buffers: run one and read its values before
// running the other.
type Program struct {
	steps []programStep
	slot  map[*G.Node]int
	vals  []G.Value
}

type programStep struct {
	node *G.Node
	op   G.Op // nil for a leaf
	args []int
	in   []G.Value // the argument slice, reused by every run
	out  int
}

// NewProgram compiles the nodes that roots depend on.
func NewProgram(roots ...*G.Node) (*Program, error) {
	if len(roots) == 0 {
		return nil, fmt.Errorf("program: no roots")
	}
	p := &Program{slot: map[*G.Node]int{}}
	// Iterative depth-first search: deep networks must not exhaust the
	// stack, and a node is placed after all of its children.
	type frame struct {
		n        *G.Node
		children G.Nodes
		next     int
	}
	onStack := map[*G.Node]bool{}
	for _, root := range roots {
		if root == nil {
			return nil, fmt.Errorf("program: a root is nil")
		}
		if _, done := p.slot[root]; done {
			continue
		}
		stack := []frame{{n: root, children: children(root)}}
		onStack[root] = true
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next < len(top.children) {
				c := top.children[top.next]
				top.next++
				if _, done := p.slot[c]; done {
					continue
				}
				if onStack[c] {
					return nil, fmt.Errorf("program: the graph has a cycle through %v", c)
				}
				onStack[c] = true
				stack = append(stack, frame{n: c, children: children(c)})
				continue
			}
			n, kids := top.n, top.children
			stack = stack[:len(stack)-1]
			delete(onStack, n)
			st := programStep{node: n, out: len(p.vals)}
			if len(kids) > 0 {
				st.op = n.Op()
				st.args = make([]int, len(kids))
				for i, c := range kids {
					st.args[i] = p.slot[c]
				}
				st.in = make([]G.Value, len(kids))
			}
			p.slot[n] = st.out
			p.vals = append(p.vals, nil)
			p.steps = append(p.steps, st)
		}
	}
	return p, nil
}

// Run runs the program once. A panic inside an op becomes an error.
func (p *Program) Run() (err error) {
	var cur *programStep
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pass: %v panicked: %v", cur.node, r)
		}
	}()
	for i := range p.steps {
		st := &p.steps[i]
		cur = st
		if st.op == nil {
			v := st.node.Value()
			if v == nil {
				return fmt.Errorf("pass: %v has no value", st.node)
			}
			p.vals[st.out] = v
			continue
		}
		for j, a := range st.args {
			st.in[j] = p.vals[a]
		}
		v, err := st.op.Do(st.in...)
		if err != nil {
			return fmt.Errorf("pass: %v: %w", st.op, err)
		}
		p.vals[st.out] = v
	}
	return nil
}

// Value returns the value n took in the last run, or nil if n is not part of
// the program or the program has not run.
func (p *Program) Value(n *G.Node) G.Value {
	i, ok := p.slot[n]
	if !ok {
		return nil
	}
	return p.vals[i]
}

// Dense returns the value n took in the last run as a dense tensor.
func (p *Program) Dense(n *G.Node) (*tensor.Dense, error) {
	v, ok := p.Value(n).(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%v was not computed", n)
	}
	return v, nil
}

// Has reports whether n is part of the program.
func (p *Program) Has(n *G.Node) bool {
	_, ok := p.slot[n]
	return ok
}

// Len is the number of nodes the program runs, leaves included.
func (p *Program) Len() int { return len(p.steps) }

// children returns n's input nodes in argument order.
func children(n *G.Node) G.Nodes {
	var out G.Nodes
	it := n.Graph().From(n.ID())
	for it.Next() {
		out = append(out, it.Node().(*G.Node))
	}
	return out
}
