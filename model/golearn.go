package model

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"

	"github.com/prescale/prescale/pkg/inference"
)

// ForestParams configures a bagged forest of golearn CART trees.
//
// golearn's ensemble.RandomForest is a classifier of ID3 trees whose
// bagging draws from the global math/rand in concurrent goroutines, so it
// cannot be made deterministic; and golearn has no forest regressor. We
// therefore bag golearn's own CART trees (trees.CARTDecisionTreeRegressor /
// CARTDecisionTreeClassifier) ourselves: each tree is fitted by golearn on a
// bootstrap sample, restricted to a random subset of the features (the
// random-subspace part of a random forest), with one seeded generator.
type ForestParams struct {
	Trees       int
	MaxDepth    int64
	SubFeatures int // features per tree; 0 = all
	Seed        int64
	// Classification fits CART classifiers on integer class labels and
	// votes; otherwise CART regressors are averaged.
	Classification bool
	// MaxSamples caps each tree's bootstrap sample (0 = as many as rows):
	// golearn's CART split search is quadratic in the node size.
	MaxSamples int
}

// FittedForest is the golearn forest plus its portable export.
type FittedForest struct {
	Params ForestParams
	// Golearn are the fitted golearn trees, in order (for parity checks).
	regressors  []*trees.CARTDecisionTreeRegressor
	classifiers []*trees.CARTDecisionTreeClassifier
	inputs      [][]int
	Export      *inference.Forest
}

// FitForest fits the forest on rows x (already standardised) and targets y.
func FitForest(x [][]float64, y []float64, p ForestParams, progress func()) (*FittedForest, error) {
	if len(x) == 0 || len(x) != len(y) {
		return nil, fmt.Errorf("fit forest: %d rows and %d targets", len(x), len(y))
	}
	nf := len(x[0])
	sub := p.SubFeatures
	if sub <= 0 || sub > nf {
		sub = nf
	}
	rng := rand.New(rand.NewSource(p.Seed))
	ff := &FittedForest{Params: p, Export: &inference.Forest{Task: inference.TaskRegression}}
	var labels []int64
	if p.Classification {
		ff.Export.Task = inference.TaskClassification
		seen := map[int64]bool{}
		for _, v := range y {
			seen[int64(v)] = true
		}
		for l := range seen {
			labels = append(labels, l)
		}
		sort.Slice(labels, func(i, j int) bool { return labels[i] < labels[j] })
		for _, l := range labels {
			ff.Export.Classes = append(ff.Export.Classes, float64(l))
		}
	}
	ns := len(x)
	if p.MaxSamples > 0 && p.MaxSamples < ns {
		ns = p.MaxSamples
	}
	for t := 0; t < p.Trees; t++ {
		cols := rng.Perm(nf)[:sub]
		sort.Ints(cols)
		rows := make([]int, ns)
		for i := range rows {
			rows[i] = rng.Intn(len(x))
		}
		grid, err := denseGrid(x, y, rows, cols)
		if err != nil {
			return nil, err
		}
		var root any
		if p.Classification {
			tr := trees.NewDecisionTreeClassifier(trees.GINI, p.MaxDepth, labels)
			if err := tr.Fit(grid); err != nil {
				return nil, fmt.Errorf("fit classification tree %d: %w", t, err)
			}
			ff.classifiers = append(ff.classifiers, tr)
			root = tr.RootNode
		} else {
			tr := trees.NewDecisionTreeRegressor(trees.MSE, p.MaxDepth)
			if err := tr.Fit(grid); err != nil {
				return nil, fmt.Errorf("fit regression tree %d: %w", t, err)
			}
			ff.regressors = append(ff.regressors, tr)
			root = tr.RootNode
		}
		ff.inputs = append(ff.inputs, cols)
		tree, err := exportTree(root, cols, p.Classification)
		if err != nil {
			return nil, fmt.Errorf("export tree %d: %w", t, err)
		}
		ff.Export.Trees = append(ff.Export.Trees, tree)
		if progress != nil {
			progress()
		}
	}
	return ff, nil
}

// GolearnPredict predicts with the golearn trees themselves (for the
// parity test against the exported forest): per row, each tree's output.
func (ff *FittedForest) GolearnPredict(x [][]float64) ([][]float64, error) {
	out := make([][]float64, len(x))
	rows := make([]int, len(x))
	for i := range rows {
		rows[i] = i
	}
	zeros := make([]float64, len(x))
	for t, cols := range ff.inputs {
		grid, err := denseGrid(x, zeros, rows, cols)
		if err != nil {
			return nil, err
		}
		var pred []float64
		if ff.Params.Classification {
			for _, v := range ff.classifiers[t].Predict(grid) {
				pred = append(pred, float64(v))
			}
		} else {
			pred = ff.regressors[t].Predict(grid)
		}
		if len(pred) != len(x) {
			return nil, fmt.Errorf("golearn tree %d predicted %d rows for %d", t, len(pred), len(x))
		}
		for i, v := range pred {
			out[i] = append(out[i], v)
		}
	}
	return out, nil
}

// denseGrid builds golearn instances from the selected rows and columns,
// with y as the (float) class attribute.
func denseGrid(x [][]float64, y []float64, rows, cols []int) (*base.DenseInstances, error) {
	inst := base.NewDenseInstances()
	specs := make([]base.AttributeSpec, len(cols))
	for j, c := range cols {
		specs[j] = inst.AddAttribute(base.NewFloatAttribute(fmt.Sprintf("f%d", c)))
	}
	ya := base.NewFloatAttribute("y")
	yspec := inst.AddAttribute(ya)
	if err := inst.AddClassAttribute(ya); err != nil {
		return nil, fmt.Errorf("golearn class attribute: %w", err)
	}
	inst.Extend(len(rows))
	for i, r := range rows {
		for j, c := range cols {
			inst.Set(specs[j], i, base.PackFloatToBytes(x[r][c]))
		}
		inst.Set(yspec, i, base.PackFloatToBytes(y[r]))
	}
	return inst, nil
}

// cartNode mirrors the exported fields of golearn's regressor and
// classifier nodes; JSON carries them across exactly (float64 values
// round-trip through Go's shortest formatting).
type cartNode struct {
	Left, Right *cartNode
	Threshold   float64
	Feature     int64
	LeftPred    float64
	RightPred   float64
	LeftLabel   int64
	RightLabel  int64
}

func exportTree(root any, cols []int, classification bool) (inference.Tree, error) {
	b, err := json.Marshal(root)
	if err != nil {
		return inference.Tree{}, err
	}
	var n cartNode
	if err := json.Unmarshal(b, &n); err != nil {
		return inference.Tree{}, err
	}
	t := inference.Tree{Inputs: append([]int(nil), cols...)}
	var walk func(n *cartNode) int
	walk = func(n *cartNode) int {
		i := len(t.Feature)
		lv, rv := n.LeftPred, n.RightPred
		if classification {
			lv, rv = float64(n.LeftLabel), float64(n.RightLabel)
		}
		t.Feature = append(t.Feature, int(n.Feature))
		t.Threshold = append(t.Threshold, n.Threshold)
		t.Left = append(t.Left, -1)
		t.Right = append(t.Right, -1)
		t.LeftValue = append(t.LeftValue, lv)
		t.RightValue = append(t.RightValue, rv)
		if n.Left != nil {
			t.Left[i] = walk(n.Left)
		}
		if n.Right != nil {
			t.Right[i] = walk(n.Right)
		}
		return i
	}
	walk(&n)
	return t, nil
}
