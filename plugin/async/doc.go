// Package async is the plugin's asynchronous invocation path: OpenFaaS's
// POST /async-function/{name}[/path] over NATS JetStream, plus the queue
// worker that drains it.
//
// The queue either embeds a NATS server (JetStream on file storage under
// Config.StoreDir, loopback only, random port unless Config.Port is set) or
// uses an external NATS with JetStream (Config.NATSURL). Functions receive the
// URL through NATSURL() (the plugin sets NATS_URL in their environment).
//
// Accepting a request: the handler validates the function name (404 when the
// function is unknown), the body size (413 beyond Config.MaxBodyBytes, 256,000
// bytes as in the OpenFaaS CE gateway) and X-Callback-Url (400 unless an
// absolute http or https URL), stores method, path, query, headers, body,
// callback URL, call id and enqueue time as a Request (JSON) on the stream
// Config.Stream (subject "<Config.Subject>.<function>") and answers 202 with
// X-Call-Id and X-Start-Time only after JetStream acknowledged the publish, so
// nothing that was accepted is lost.
//
// Delivery is at least once. Every function has a durable pull consumer with
// explicit acks and an AckWait longer than Config.FunctionTimeout plus
// Config.CallbackTimeout; a crash (even kill -9) leaves unacknowledged
// messages on disk and they are redelivered after a restart on the same store.
// Each function is served by at most Concurrency workers: Config.Concurrency,
// overridden per function by the annotation com.openfaas.queue.concurrency
// (an integer 1..1000) when the Functions given to New also implement
// Annotations. A worker invokes GatewayURL/function/<name><path>?<query> with
// the stored method and headers (User-Agent: prescale/queue-worker) and posts
// the result to the callback URL with X-Call-Id, X-Function-Name,
// X-Function-Status, X-Duration-Seconds and the function's own response
// headers and body.
//
// Failures are retried with exponential backoff and jitter (NakWithDelay):
// a function that is not (or not yet) deployed, connection errors, the status codes in Config.RetryCodes (408, 429 and
// every 5xx by default) from the function, and callback failures (a
// failed callback re-invokes the function: delivery is at least once and
// functions are expected to be idempotent). A message still failing after
// Config.MaxAttempts deliveries is published with the last status, error and
// attempt count to the dead-letter stream Config.DLQStream, then acked; when
// the function failed, the callback receives that final status once. The DLQ
// type lists, shows, replays and purges the dead letters (prescale dlq).
// Consumers of functions that no longer exist are deleted once idle.
package async
