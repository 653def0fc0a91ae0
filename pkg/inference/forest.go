package inference

import (
	"errors"
	"fmt"
	"math"
)

// Forest tasks.
const (
	TaskRegression     = "regression"
	TaskClassification = "classification"
)

// Forest is a portable tree ensemble: the average of its trees (regression)
// or their majority vote (classification; ties go to the smallest class).
// It evaluates exactly like golearn's CART trees: go left when
// x[feature] < threshold, else right.
type Forest struct {
	Task string `json:"task"`
	// Classes lists the class labels a classification forest can vote for.
	Classes []float64 `json:"classes,omitempty"`
	Trees   []Tree    `json:"trees"`
}

// Tree is one CART tree in flat arrays. Node 0 is the root. Node i tests
// input column Inputs[Feature[i]] against Threshold[i]; Left[i]/Right[i]
// are child node indices, or -1 for a leaf whose value is
// LeftValue[i]/RightValue[i]. Children always have larger indices than
// their parent, so evaluation always terminates.
type Tree struct {
	// Inputs maps the tree's columns to the model's feature indices
	// (a random forest's trees each see a subset of the features).
	Inputs     []int     `json:"inputs"`
	Feature    []int     `json:"feature"`
	Threshold  []float64 `json:"threshold"`
	Left       []int     `json:"left"`
	Right      []int     `json:"right"`
	LeftValue  []float64 `json:"left_value"`
	RightValue []float64 `json:"right_value"`
}

func (f *Forest) validate(nFeatures int) error {
	switch f.Task {
	case TaskRegression:
	case TaskClassification:
		if len(f.Classes) == 0 {
			return errors.New("classification forest lists no classes")
		}
	default:
		return fmt.Errorf("task %q, want %s or %s", f.Task, TaskRegression, TaskClassification)
	}
	if len(f.Trees) == 0 {
		return errors.New("forest has no trees")
	}
	for ti, t := range f.Trees {
		if err := t.validate(nFeatures); err != nil {
			return fmt.Errorf("tree %d: %w", ti, err)
		}
		if f.Task != TaskClassification {
			continue
		}
		for i := range t.Feature {
			if (t.Left[i] < 0 && !containsFloat(f.Classes, t.LeftValue[i])) || (t.Right[i] < 0 && !containsFloat(f.Classes, t.RightValue[i])) {
				return fmt.Errorf("tree %d node %d votes for a value that is not one of the classes %v", ti, i, f.Classes)
			}
		}
	}
	return nil
}

func containsFloat(xs []float64, v float64) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

func (t *Tree) validate(nFeatures int) error {
	n := len(t.Feature)
	if n == 0 {
		return errors.New("no nodes")
	}
	if len(t.Threshold) != n || len(t.Left) != n || len(t.Right) != n || len(t.LeftValue) != n || len(t.RightValue) != n {
		return errors.New("node arrays differ in length")
	}
	for _, in := range t.Inputs {
		if in < 0 || in >= nFeatures {
			return fmt.Errorf("input column %d outside the %d features", in, nFeatures)
		}
	}
	for i := 0; i < n; i++ {
		if t.Feature[i] < 0 || t.Feature[i] >= len(t.Inputs) {
			return fmt.Errorf("node %d tests column %d of %d", i, t.Feature[i], len(t.Inputs))
		}
		if !finite(t.Threshold[i]) || !finite(t.LeftValue[i]) || !finite(t.RightValue[i]) {
			return fmt.Errorf("node %d has a non-finite number", i)
		}
		for _, c := range []int{t.Left[i], t.Right[i]} {
			if c != -1 && (c <= i || c >= n) {
				return fmt.Errorf("node %d has child %d (want -1 or %d..%d)", i, c, i+1, n-1)
			}
		}
	}
	return nil
}

// Eval evaluates one tree on the model's (already standardised) input.
func (t *Tree) Eval(x []float64) float64 {
	i := 0
	for {
		if x[t.Inputs[t.Feature[i]]] < t.Threshold[i] {
			if t.Left[i] < 0 {
				return t.LeftValue[i]
			}
			i = t.Left[i]
		} else {
			if t.Right[i] < 0 {
				return t.RightValue[i]
			}
			i = t.Right[i]
		}
	}
}

// Predict evaluates the ensemble: the mean of the trees for regression, the
// majority class for classification.
func (f *Forest) Predict(x []float64) float64 {
	if f.Task == TaskClassification {
		votes := make([]int, len(f.Classes))
		for i := range f.Trees {
			v := f.Trees[i].Eval(x)
			for c, cl := range f.Classes {
				if cl == v {
					votes[c]++
					break
				}
			}
		}
		best := 0
		for c := range votes {
			if votes[c] > votes[best] || (votes[c] == votes[best] && f.Classes[c] < f.Classes[best]) {
				best = c
			}
		}
		return f.Classes[best]
	}
	var s float64
	for i := range f.Trees {
		s += f.Trees[i].Eval(x)
	}
	return s / float64(len(f.Trees))
}

// Nodes is the total number of nodes in the forest.
func (f *Forest) Nodes() int {
	n := 0
	for _, t := range f.Trees {
		n += len(t.Feature)
	}
	return n
}

func checkInput(x []float64, n int) error {
	if len(x) != n {
		return fmt.Errorf("input has %d values, the model needs %d", len(x), n)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("input value %d is not a finite number", i)
		}
	}
	return nil
}
