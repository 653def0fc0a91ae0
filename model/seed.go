package model

import (
	"fmt"
	"math"
	"sort"

	"github.com/prescale/prescale/pkg/inference"
)

// SeedVariant is one seed-parity candidate: a forest type and a feature set.
type SeedVariant struct {
	Name     string
	Features []string
	Params   ForestParams
}

// SeedScores are held-out replica-prediction figures.
type SeedScores struct {
	N      int
	Exact  float64 // share with round(prediction) == label
	Within float64 // share with |round(prediction) − label| ≤ 1
	MAE    float64 // mean |round(prediction) − label|, replicas
	R2     float64 // coefficient of determination of the raw output (sklearn's score())
}

// SeedResult is the seed-parity experiment.
type SeedResult struct {
	Variants   []SeedVariant
	Validation []SeedScores // the choice is made on these rates
	Test       []SeedScores // reported on these held-out rates
	Chosen     int
	Artefact   *inference.Artefact
	Fitted     *FittedForest
	TestX      [][]float64 // standardised test rows of the chosen model
	Rows       [3]int      // train, validation, test
	// ParityRows is how many test rows the exported forest was checked on
	// against golearn's own trees; ParityMismatches how many disagreed.
	ParityRows, ParityMismatches int
}

// SeedVariants: golearn CART regression trees bagged into a forest and
// golearn CART classifier trees voting on replica classes, each on the
// extended and on the original feature set.
func SeedVariants(seed int64) []SeedVariant {
	reg := ForestParams{Trees: 20, MaxDepth: 10, SubFeatures: 0, Seed: seed}
	cls := reg
	cls.Classification = true
	sub := func(p ForestParams, nf int) ForestParams { p.SubFeatures = (2*nf + 2) / 3; return p }
	return []SeedVariant{
		{Name: "bagged CART regression trees, extended features", Features: SeedFeatures(), Params: sub(reg, len(SeedFeatures()))},
		{Name: "bagged CART classifier (replica classes), extended features", Features: SeedFeatures(), Params: sub(cls, len(SeedFeatures()))},
		{Name: "bagged CART regression trees, original features", Features: OriginalFeatures(), Params: sub(reg, len(OriginalFeatures()))},
		{Name: "bagged CART classifier (replica classes), original features", Features: OriginalFeatures(), Params: sub(cls, len(OriginalFeatures()))},
	}
}

// rateSplits assigns whole offered rates to splits, so the held-out
// windows are at rates the model never saw: with the rates sorted, index
// i mod 4 = 0, 1 → training, 2 → validation, 3 → test.
func rateSplits(ws []Window) func(Window) int {
	set := map[float64]bool{}
	for _, w := range ws {
		set[w.Rate] = true
	}
	rates := make([]float64, 0, len(set))
	for r := range set {
		rates = append(rates, r)
	}
	sort.Float64s(rates)
	idx := map[float64]int{}
	for i, r := range rates {
		idx[r] = i % 4
	}
	return func(w Window) int { return idx[w.Rate] }
}

func matrix(ws []Window, features []string, keep func(Window) bool) ([][]float64, []float64, error) {
	var x [][]float64
	var y []float64
	for _, w := range ws {
		if !keep(w) {
			continue
		}
		v, err := w.Vector(features)
		if err != nil {
			return nil, nil, err
		}
		x = append(x, v)
		y = append(y, float64(w.Label))
	}
	return x, y, nil
}

func fitScaler(x [][]float64) *inference.Scaler {
	nf := len(x[0])
	s := &inference.Scaler{Mean: make([]float64, nf), Std: make([]float64, nf)}
	for j := 0; j < nf; j++ {
		var m float64
		for i := range x {
			m += x[i][j]
		}
		m /= float64(len(x))
		var v float64
		for i := range x {
			v += (x[i][j] - m) * (x[i][j] - m)
		}
		sd := math.Sqrt(v / float64(len(x)))
		if sd == 0 {
			sd = 1
		}
		s.Mean[j], s.Std[j] = m, sd
	}
	return s
}

func scoreSeed(f *inference.Forest, x [][]float64, y []float64) SeedScores {
	sc := SeedScores{N: len(x)}
	var mean, ssTot, ssRes float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	for i := range x {
		raw := f.Predict(x[i])
		r := math.Max(1, math.Round(raw))
		d := math.Abs(r - y[i])
		if d == 0 {
			sc.Exact++
		}
		if d <= 1 {
			sc.Within++
		}
		sc.MAE += d
		ssRes += (raw - y[i]) * (raw - y[i])
		ssTot += (y[i] - mean) * (y[i] - mean)
	}
	n := float64(len(x))
	sc.Exact, sc.Within, sc.MAE = sc.Exact/n, sc.Within/n, sc.MAE/n
	if ssTot > 0 {
		sc.R2 = 1 - ssRes/ssTot
	}
	return sc
}

func standardiseAll(s *inference.Scaler, x [][]float64) [][]float64 {
	out := make([][]float64, len(x))
	for i := range x {
		out[i] = s.Standardise(x[i])
	}
	return out
}

// RunSeed fits every variant on the training repeats, chooses by
// validation exact accuracy (then MAE), refits the choice on training +
// validation and reports everything on the held-out test repeats.
func RunSeed(ws []Window, variants []SeedVariant, progress func()) (*SeedResult, error) {
	res := &SeedResult{Variants: variants}
	splitOf := rateSplits(ws)
	isTrain := func(w Window) bool { return splitOf(w) < 2 }
	isVal := func(w Window) bool { return splitOf(w) == 2 }
	isFit := func(w Window) bool { return splitOf(w) < 3 }
	isTest := func(w Window) bool { return splitOf(w) == 3 }
	type fitted struct {
		ff     *FittedForest
		scaler *inference.Scaler
	}
	fit := func(v SeedVariant, keep func(Window) bool) (fitted, error) {
		x, y, err := matrix(ws, v.Features, keep)
		if err != nil {
			return fitted{}, err
		}
		if len(x) == 0 {
			return fitted{}, fmt.Errorf("seed model %s: no training rows", v.Name)
		}
		s := fitScaler(x)
		ff, err := FitForest(standardiseAll(s, x), y, v.Params, progress)
		if err != nil {
			return fitted{}, fmt.Errorf("seed model %s: %w", v.Name, err)
		}
		return fitted{ff, s}, nil
	}
	eval := func(f fitted, v SeedVariant, keep func(Window) bool) (SeedScores, error) {
		x, y, err := matrix(ws, v.Features, keep)
		if err != nil {
			return SeedScores{}, err
		}
		if len(x) == 0 {
			return SeedScores{}, fmt.Errorf("seed model %s: no evaluation rows", v.Name)
		}
		return scoreSeed(f.ff.Export, standardiseAll(f.scaler, x), y), nil
	}
	best := -1
	for i, v := range variants {
		f, err := fit(v, isTrain)
		if err != nil {
			return nil, err
		}
		val, err := eval(f, v, isVal)
		if err != nil {
			return nil, err
		}
		res.Validation = append(res.Validation, val)
		if best < 0 || val.Exact > res.Validation[best].Exact ||
			(val.Exact == res.Validation[best].Exact && val.MAE < res.Validation[best].MAE) {
			best = i
		}
		// The test figure of every variant, fitted on train + validation.
		f2, err := fit(v, isFit)
		if err != nil {
			return nil, err
		}
		te, err := eval(f2, v, isTest)
		if err != nil {
			return nil, err
		}
		res.Test = append(res.Test, te)
		if i == best {
			res.Fitted = f2.ff
			x, _, _ := matrix(ws, v.Features, isTest)
			res.TestX = standardiseAll(f2.scaler, x)
			res.Artefact = &inference.Artefact{Kind: inference.KindReplicaForest, Name: "seed-forest",
				Features: append([]string(nil), v.Features...), Scaler: f2.scaler, Forest: f2.ff.Export}
		}
	}
	res.Chosen = best
	for _, w := range ws {
		switch {
		case isTrain(w):
			res.Rows[0]++
		case isVal(w):
			res.Rows[1]++
		case isTest(w):
			res.Rows[2]++
		}
	}
	// Parity: the exported forest's trees against golearn's own.
	g, err := res.Fitted.GolearnPredict(res.TestX)
	if err != nil {
		return nil, err
	}
	for i, x := range res.TestX {
		res.ParityRows++
		for t := range res.Fitted.Export.Trees {
			if res.Fitted.Export.Trees[t].Eval(x) != g[i][t] {
				res.ParityMismatches++
				break
			}
		}
	}
	return res, nil
}
