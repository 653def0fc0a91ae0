package sim

// Keep is what a Controller returns to leave the replicas as they are.
const Keep = -1

// Policy makes one Controller per simulated function.
type Policy interface {
	Name() string
	NewController(f FunctionInfo) Controller
}

// FunctionInfo is what a policy knows about a function when it starts.
type FunctionInfo struct {
	Name         string
	Concurrency  int     // request slots per replica
	MeanService  float64 // seconds: the mean of the service-time distribution
	Min, Max     int     // replica bounds
	ColdStartMax float64 // seconds: the longest possible cold start
}

// Controller is one function's autoscaler. The simulator calls Decide every
// Period seconds (from t = Period on) and applies the answer Lag seconds later.
type Controller interface {
	Period() int // whole seconds between control instants; 0 = never
	Lag() int    // whole seconds from a decision to its scale call
	Decide(v View) int
}

// Foresighted marks a Controller that reads the future through View.NeedAhead.
type Foresighted interface {
	UsesFuture()
}

// View is what a Controller observes at a control instant. Window sums cover
// (now-w, now]; they are clamped to the start of the trace.
type View interface {
	Now() float64
	Replicas() int // desired replicas (the deployment's spec)
	Ready() int    // ready replicas that take new requests
	Starting() int // replicas created but not yet ready
	InFlight() int // requests queued or in service
	Queued() int   // requests waiting for a free slot

	Arrivals(w int) float64        // requests that arrived
	Completions(w int) float64     // requests that completed
	LatencySum(w int) float64      // sum of the completed requests' latencies, seconds
	BusySeconds(w int) float64     // ∫ busy slots of ready replicas dt
	ReadySeconds(w int) float64    // ∫ ready replicas dt
	InFlightSeconds(w int) float64 // ∫ in-flight requests dt

	// NeedAhead is only answered for Foresighted controllers: the most
	// replicas needed at any second of [now, now+h] for no request to wait,
	// given the actual future arrivals and service times. Otherwise -1.
	NeedAhead(h int) int
}

// ArrivalObserver is a Controller told of every arrival (before it is
// dispatched, so InFlight does not count it yet), e.g. to record idle times.
type ArrivalObserver interface {
	Arrived(v View)
}
