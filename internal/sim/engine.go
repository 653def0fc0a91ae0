package sim

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// FunctionSpec is one function to simulate.
type FunctionSpec struct {
	Name    string
	Counts  []float64 // invocations per minute (per Bucket seconds when set)
	Service Service
	// Times and Durations, when set, are the real arrival instants
	// (seconds, sorted) and service times: they are used as they are
	// instead of spreading Counts within each minute.
	Times, Durations []float64
	// Bucket is the seconds each count covers (0 = 60: per-minute traces).
	// A time-compressed live replay (a minute in 60/speed s) is simulated
	// with Bucket = 60/speed: the same arrivals per real second.
	Bucket int
}

// bucket is the seconds each count covers.
func (f *FunctionSpec) bucket() int {
	if f.Bucket > 0 {
		return f.Bucket
	}
	return 60
}

// Result is one policy's outcome over a set of functions.
type Result struct {
	Policy   string
	Metrics  Metrics
	Load     []float64 // arrivals per minute (per Bucket), summed over the functions
	Replicas []float64 // mean replicas per minute (per Bucket), summed over the functions
	PerFn    []FnStat  // per function, in input order
}

// Run simulates every function under the policy and merges the outcomes.
func Run(ctx context.Context, cfg Config, fns []FunctionSpec, p Policy) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, fmt.Errorf("sim config: %w", err)
	}
	minutes := 0
	for _, f := range fns {
		minutes = max(minutes, len(f.Counts))
	}
	res := Result{Policy: p.Name(), Load: make([]float64, minutes), Replicas: make([]float64, minutes)}
	outs := make([]*fnOut, len(fns))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		next int
		err  error
	)
	for w := 0; w < min(cfg.Workers, max(1, len(fns))); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				stop := err != nil
				mu.Unlock()
				if i >= len(fns) || stop {
					return
				}
				if cerr := ctx.Err(); cerr != nil {
					mu.Lock()
					err = fmt.Errorf("simulation stopped: %w", cerr)
					mu.Unlock()
					return
				}
				o, serr := simulate(ctx, cfg, i, fns[i], p)
				if serr != nil {
					mu.Lock()
					err = serr
					mu.Unlock()
					return
				}
				outs[i] = o
			}
		}()
	}
	wg.Wait()
	if err != nil {
		return Result{}, err
	}
	for _, o := range outs { // fixed order: deterministic float sums
		res.Metrics.Merge(&o.m)
		res.PerFn = append(res.PerFn, FnStat{Arrivals: o.m.Arrivals, Cold: o.m.ColdInvocations, Wasted: o.m.WastedSeconds})
		for i, v := range o.load {
			res.Load[i] += v
		}
		for i, v := range o.repl {
			res.Replicas[i] += v
		}
	}
	return res, nil
}

type fnOut struct {
	m          Metrics
	load, repl []float64
}

// ---- arrivals ----

// arrivalGen yields a function's requests (arrival time, service time) in
// time order, generated minute by minute from a per-(function, minute)
// seeded stream so every policy and the oracle see exactly the same ones.
type arrivalGen struct {
	cfg    *Config
	fn     *FunctionSpec
	key    uint64
	minute int
	at     []float64
	svc    []float64
	i      int
	ti     int // next index into fn.Times
}

func newArrivalGen(cfg *Config, idx int, fn *FunctionSpec) *arrivalGen {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", idx, fn.Name)
	return &arrivalGen{cfg: cfg, fn: fn, key: h.Sum64() ^ cfg.Seed, minute: -1}
}

// next returns the next request, or ok=false at the end of the trace.
func (g *arrivalGen) next() (at, svc float64, ok bool) {
	for g.i >= len(g.at) {
		g.minute++
		if g.minute >= len(g.fn.Counts) {
			return 0, 0, false
		}
		g.fill()
	}
	at, svc = g.at[g.i], g.svc[g.i]
	g.i++
	return at, svc, true
}

func (g *arrivalGen) fill() {
	g.at, g.svc, g.i = g.at[:0], g.svc[:0], 0
	if g.fn.Times != nil { // real arrival instants, as they are
		hi := float64(g.minute+1) * float64(g.fn.bucket())
		for g.ti < len(g.fn.Times) && g.fn.Times[g.ti] < hi {
			g.at = append(g.at, g.fn.Times[g.ti])
			sv := g.fn.Durations[g.ti]
			if !(sv > 0) {
				sv = 1e-3
			}
			g.svc = append(g.svc, sv)
			g.ti++
		}
		return
	}
	c := g.fn.Counts[g.minute]
	if !(c > 0) {
		return
	}
	n := int(math.Round(c))
	r := rand.New(rand.NewPCG(g.key, uint64(g.minute)))
	bk := float64(g.fn.bucket())
	base := float64(g.minute) * bk
	for k := 0; k < n; k++ {
		if g.cfg.Arrivals == "uniform" {
			g.at = append(g.at, base+(float64(k)+0.5)*bk/float64(n))
		} else {
			g.at = append(g.at, base+bk*r.Float64())
		}
	}
	slices.Sort(g.at)
	for range g.at {
		g.svc = append(g.svc, g.fn.Service.Quantile(r.Float64()))
	}
}

// ---- events ----

const (
	evArrival uint8 = iota
	evComplete
	evReady
	evTick
	evApply
)

type event struct {
	t        float64
	seq      uint64
	kind     uint8
	rep      int32
	arr, svc float64 // evComplete: the request; evApply: arr holds the desired replicas
}

type eventHeap []event

func (h eventHeap) less(i, j int) bool {
	if h[i].t != h[j].t {
		return h[i].t < h[j].t
	}
	return h[i].seq < h[j].seq
}

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *eventHeap) pop() event {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && s.less(l, m) {
			m = l
		}
		if r < n && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// ---- one function ----

const (
	repStarting uint8 = iota
	repReady
	repDraining
	repGone
)

type replica struct {
	state   uint8
	busy    int
	readyAt float64
}

type request struct{ arr, svc float64 }

// cum holds running integrals and counters; snaps[s] is its value at second s.
type cum struct {
	arr, comp, lat, busy, ready, inflight, repl, waste float64
}

type fnSim struct {
	cfg   *Config
	end   float64 // seconds: the trace's length
	now   float64
	last  float64 // time the integrals were advanced to
	seq   uint64
	ev    eventHeap
	gen   *arrivalGen
	cold  *rand.Rand
	ctl   Controller
	spec  int
	reps  []replica
	live  []int32 // indices of replicas not gone
	queue []request
	qhead int

	nStarting, nReady, nDraining int
	busyReady, busyDraining      int
	nBusyReps                    int // ready or draining replicas serving at least one request
	obs                          ArrivalObserver

	c     cum
	snaps []cum
	need  []int32 // oracle only: replicas needed per second
	m     Metrics
}

func simulate(ctx context.Context, cfg Config, idx int, fn FunctionSpec, p Policy) (*fnOut, error) {
	bk := fn.bucket()
	end := float64(len(fn.Counts) * bk)
	s := &fnSim{
		cfg:   &cfg,
		end:   end,
		gen:   newArrivalGen(&cfg, idx, &fn),
		cold:  rand.New(rand.NewPCG(cfg.Seed, uint64(idx)+0x9e3779b97f4a7c15)),
		snaps: make([]cum, len(fn.Counts)*bk+1),
	}
	s.ctl = p.NewController(FunctionInfo{
		Name: fn.Name, Concurrency: cfg.Concurrency, MeanService: fn.Service.Mean(),
		Min: cfg.MinReplicas, Max: cfg.MaxReplicas, ColdStartMax: cfg.ColdStart.Max(),
	})
	if _, ok := s.ctl.(Foresighted); ok {
		s.need = computeNeed(&cfg, idx, &fn)
	}
	s.obs, _ = s.ctl.(ArrivalObserver)
	// Start warm with the minimum ready; a foresighted controller has
	// already provisioned what the first cold-start horizon needs.
	initial := cfg.MinReplicas
	if s.need != nil {
		s.now = 0
		initial = max(initial, min(s.NeedAhead(int(math.Ceil(cfg.ColdStart.Max()))+1), cfg.MaxReplicas))
	}
	for range initial {
		s.reps = append(s.reps, replica{state: repReady})
		s.live = append(s.live, int32(len(s.reps)-1))
		s.nReady++
	}
	s.spec = initial
	if at, svc, ok := s.gen.next(); ok {
		s.push(event{t: at, kind: evArrival, arr: at, svc: svc})
	}
	if per := s.ctl.Period(); per > 0 && float64(per) < end {
		s.push(event{t: float64(per), kind: evTick})
	}
	for n := 0; len(s.ev) > 0; n++ {
		if n&0xffff == 0xffff && ctx.Err() != nil {
			return nil, fmt.Errorf("simulation stopped: %w", ctx.Err())
		}
		e := s.ev.pop()
		s.advance(e.t)
		s.now = e.t
		switch e.kind {
		case evArrival:
			s.arrive(request{e.arr, e.svc})
			if at, svc, ok := s.gen.next(); ok {
				s.push(event{t: at, kind: evArrival, arr: at, svc: svc})
			}
		case evComplete:
			s.complete(int(e.rep), request{e.arr, e.svc})
		case evReady:
			s.ready(int(e.rep))
		case evTick:
			want := s.ctl.Decide(s)
			if lag := s.ctl.Lag(); lag > 0 {
				if e.t+float64(lag) < end {
					s.push(event{t: e.t + float64(lag), kind: evApply, arr: float64(want)})
				}
			} else {
				s.scale(want)
			}
			if nt := e.t + float64(s.ctl.Period()); nt < end {
				s.push(event{t: nt, kind: evTick})
			}
		case evApply:
			s.scale(int(e.arr))
		}
	}
	s.advance(end)
	s.m.ReplicaSeconds = s.snaps[len(s.snaps)-1].repl
	s.m.WastedSeconds = s.snaps[len(s.snaps)-1].waste
	out := &fnOut{m: s.m, load: make([]float64, len(fn.Counts)), repl: make([]float64, len(fn.Counts))}
	for i := range fn.Counts {
		a, b := s.snaps[i*bk], s.snaps[(i+1)*bk]
		out.load[i] = b.arr - a.arr
		out.repl[i] = (b.repl - a.repl) / float64(bk)
	}
	return out, nil
}

func (s *fnSim) push(e event) {
	s.seq++
	e.seq = s.seq
	s.ev.push(e)
}

// advance moves the integrals from s.last to t (never past the trace's end),
// recording a snapshot at every whole second crossed.
func (s *fnSim) advance(t float64) {
	t = math.Min(t, s.end)
	if t <= s.last {
		return
	}
	busy := float64(s.busyReady)
	ready := float64(s.nReady)
	infl := float64(s.inFlight())
	repl := float64(s.nStarting + s.nReady + s.nDraining)
	waste := repl - float64(s.nBusyReps)
	step := func(to float64) {
		dt := to - s.last
		s.c.waste += waste * dt
		s.c.busy += busy * dt
		s.c.ready += ready * dt
		s.c.inflight += infl * dt
		s.c.repl += repl * dt
		s.last = to
	}
	for sec := math.Floor(s.last) + 1; sec <= t; sec++ {
		step(sec)
		s.snaps[int(sec)] = s.c
	}
	if t > s.last {
		step(t)
	}
}

func (s *fnSim) inFlight() int { return len(s.queue) - s.qhead + s.busyReady + s.busyDraining }

func (s *fnSim) arrive(r request) {
	if s.now < s.end {
		s.c.arr++
		s.m.Arrivals++
		if s.nReady == 0 {
			s.m.ColdInvocations++
		}
	}
	if s.obs != nil {
		s.obs.Arrived(s)
	}
	if s.spec == 0 {
		// Scale from zero: the gateway (or Knative's activator) holds the
		// request and asks for one replica at once.
		s.scale(1)
	}
	for _, i := range s.live {
		rp := &s.reps[i]
		if rp.state == repReady && rp.busy < s.cfg.Concurrency {
			s.start(int(i), r)
			return
		}
	}
	s.m.Queued++
	s.queue = append(s.queue, r)
}

func (s *fnSim) start(i int, r request) {
	if s.reps[i].busy == 0 {
		s.nBusyReps++
	}
	s.reps[i].busy++
	s.busyReady++
	s.push(event{t: s.now + r.svc, kind: evComplete, rep: int32(i), arr: r.arr, svc: r.svc})
}

func (s *fnSim) dequeue() (request, bool) {
	if s.qhead >= len(s.queue) {
		return request{}, false
	}
	r := s.queue[s.qhead]
	s.qhead++
	if s.qhead == len(s.queue) {
		s.queue, s.qhead = s.queue[:0], 0
	} else if s.qhead > 4096 && s.qhead*2 > len(s.queue) {
		s.queue = append(s.queue[:0], s.queue[s.qhead:]...)
		s.qhead = 0
	}
	return r, true
}

func (s *fnSim) complete(i int, r request) {
	lat := s.now - r.arr
	s.m.Requests++
	s.m.Latency.Add(lat)
	if lat-r.svc > s.cfg.SLO {
		s.m.OverSLO++
	}
	if s.now <= s.end {
		s.c.comp++
		s.c.lat += lat
	}
	rp := &s.reps[i]
	rp.busy--
	if rp.busy == 0 {
		s.nBusyReps--
	}
	if rp.state == repDraining {
		s.busyDraining--
		if rp.busy == 0 {
			rp.state = repGone
			s.nDraining--
			s.unlink(i)
		}
		return
	}
	s.busyReady--
	if q, ok := s.dequeue(); ok {
		if rp.readyAt > q.arr {
			// Queued behind busy replicas and served by one that became
			// ready after it arrived: it waited for a replica start too
			// (the plugin's rule, prescale_plugin_start_waits_total).
			s.m.ColdDelayed++
		}
		s.start(i, q)
	}
}

func (s *fnSim) ready(i int) {
	rp := &s.reps[i]
	if rp.state != repStarting {
		return // cancelled by a scale-down while starting
	}
	rp.state = repReady
	s.nStarting--
	s.nReady++
	for rp.busy < s.cfg.Concurrency {
		q, ok := s.dequeue()
		if !ok {
			break
		}
		s.m.ColdDelayed++
		s.start(i, q)
	}
}

func (s *fnSim) unlink(i int) {
	for k, v := range s.live {
		if int(v) == i {
			s.live = append(s.live[:k], s.live[k+1:]...)
			return
		}
	}
}

// scale sets the desired replicas: new replicas start cold; removals cancel
// starting replicas first (the latest first), then idle ready ones, then
// drain the least busy (they finish their requests and take no new ones).
func (s *fnSim) scale(want int) {
	if want == Keep {
		return
	}
	want = min(max(want, s.cfg.MinReplicas), s.cfg.MaxReplicas)
	if want == 0 && s.inFlight() > 0 {
		want = 1 // the last replica is not removed under requests
	}
	if want == s.spec {
		return
	}
	s.m.Actions++
	for ; s.spec < want; s.spec++ {
		at := s.now + s.cfg.ColdStart.Sample(s.cold)
		s.reps = append(s.reps, replica{state: repStarting, readyAt: at})
		i := len(s.reps) - 1
		s.live = append(s.live, int32(i))
		s.nStarting++
		s.push(event{t: at, kind: evReady, rep: int32(i)})
	}
	for ; s.spec > want; s.spec-- {
		s.removeOne()
	}
}

func (s *fnSim) removeOne() {
	pick, best := -1, math.Inf(-1)
	for _, i := range s.live {
		if rp := &s.reps[i]; rp.state == repStarting && rp.readyAt > best {
			pick, best = int(i), rp.readyAt
		}
	}
	if pick >= 0 {
		s.reps[pick].state = repGone
		s.nStarting--
		s.unlink(pick)
		return
	}
	least := math.MaxInt
	for k := len(s.live) - 1; k >= 0; k-- { // newest first among equals
		i := s.live[k]
		if rp := &s.reps[i]; rp.state == repReady && rp.busy < least {
			pick, least = int(i), rp.busy
		}
	}
	if pick < 0 {
		return
	}
	rp := &s.reps[pick]
	s.nReady--
	if rp.busy == 0 {
		rp.state = repGone
		s.unlink(pick)
		return
	}
	rp.state = repDraining
	s.nDraining++
	s.busyReady -= rp.busy
	s.busyDraining += rp.busy
}

// ---- View ----

func (s *fnSim) Now() float64  { return s.now }
func (s *fnSim) Replicas() int { return s.spec }
func (s *fnSim) Ready() int    { return s.nReady }
func (s *fnSim) Starting() int { return s.nStarting }
func (s *fnSim) InFlight() int { return s.inFlight() }
func (s *fnSim) Queued() int   { return len(s.queue) - s.qhead }

func (s *fnSim) window(w int) (a, b cum) {
	hi := min(int(s.now), len(s.snaps)-1)
	lo := max(0, hi-w)
	return s.snaps[lo], s.snaps[hi]
}

func (s *fnSim) Arrivals(w int) float64 {
	a, b := s.window(w)
	return b.arr - a.arr
}
func (s *fnSim) Completions(w int) float64 {
	a, b := s.window(w)
	return b.comp - a.comp
}
func (s *fnSim) LatencySum(w int) float64 {
	a, b := s.window(w)
	return b.lat - a.lat
}
func (s *fnSim) BusySeconds(w int) float64 {
	a, b := s.window(w)
	return b.busy - a.busy
}
func (s *fnSim) ReadySeconds(w int) float64 {
	a, b := s.window(w)
	return b.ready - a.ready
}
func (s *fnSim) InFlightSeconds(w int) float64 {
	a, b := s.window(w)
	return b.inflight - a.inflight
}

func (s *fnSim) NeedAhead(h int) int {
	if s.need == nil {
		return -1
	}
	lo := int(s.now)
	n := int32(s.cfg.MinReplicas)
	for t := lo; t <= lo+h && t < len(s.need); t++ {
		n = max(n, s.need[t])
	}
	return int(n)
}

// computeNeed returns, per second of the trace, the replicas needed so that
// every request finds a free slot on arrival: ceil(max in-flight / C) over
// that second when every request starts at once, floored at MinReplicas.
func computeNeed(cfg *Config, idx int, fn *FunctionSpec) []int32 {
	secs := len(fn.Counts) * fn.bucket()
	need := make([]int32, secs)
	g := newArrivalGen(cfg, idx, fn)
	var dep floatHeap
	at, svc, ok := g.next()
	for sec := 0; sec < secs; sec++ {
		t := float64(sec)
		for len(dep) > 0 && dep[0] <= t {
			dep.pop()
		}
		peak := len(dep)
		for ok && at < t+1 {
			for len(dep) > 0 && dep[0] <= at {
				dep.pop()
			}
			dep.push(at + svc)
			peak = max(peak, len(dep))
			at, svc, ok = g.next()
		}
		n := (peak + cfg.Concurrency - 1) / cfg.Concurrency
		need[sec] = int32(max(n, cfg.MinReplicas))
	}
	return need
}

type floatHeap []float64

func (h *floatHeap) push(x float64) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p] <= s[i] {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *floatHeap) pop() {
	s := *h
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && s[l] < s[m] {
			m = l
		}
		if r < n && s[r] < s[m] {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
}
