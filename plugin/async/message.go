package async

import (
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Request is a queued asynchronous invocation, stored as JSON on the stream.
// Its fields mirror faas-provider's types.QueueRequest, with the callback URL
// as a string and the call id and enqueue time added.
type Request struct {
	CallID      string      `json:"callId"`
	Function    string      `json:"function"`
	Method      string      `json:"method"`
	Path        string      `json:"path,omitempty"`
	QueryString string      `json:"queryString,omitempty"`
	Header      http.Header `json:"header,omitempty"`
	Host        string      `json:"host,omitempty"`
	Body        []byte      `json:"body,omitempty"`
	CallbackURL string      `json:"callbackUrl,omitempty"`
	QueuedAt    time.Time   `json:"queuedAt"`
}

// DeadLetter is a request that exhausted its attempts, as stored on the
// dead-letter stream.
type DeadLetter struct {
	Request    Request   `json:"request"`
	Attempts   int       `json:"attempts"`
	LastStatus int       `json:"lastStatus,omitempty"`
	LastError  string    `json:"lastError"`
	FailedAt   time.Time `json:"failedAt"`
}

// functionName accepts the plugin's function names (faas-provider's
// [-a-zA-Z_0-9.] without empty dot-separated parts, so each is a NATS
// subject token) with an optional ".namespace" suffix.
var functionName = regexp.MustCompile(`^[-a-zA-Z_0-9]+(\.[-a-zA-Z_0-9]+)?$`)

// ValidFunctionName reports whether name can be queued.
func ValidFunctionName(name string) bool {
	return len(name) <= 253 && functionName.MatchString(name)
}

// consumerEscaper maps function names one-to-one onto durable consumer
// names, which may not contain '.'.
var consumerEscaper = strings.NewReplacer("_", "__", ".", "_D")

// consumerName is the durable consumer of one function's subject.
func consumerName(function string) string {
	return "fn_" + consumerEscaper.Replace(function)
}
