// Package build builds every function of a stack natively, the way
// `faas-cli build --shrinkwrap` lays out a Docker build context followed by
// the template Dockerfile's steps, but without Docker:
//
//   - build/<fn> is wiped, template/<lang>/** is copied in, the handler
//     directory (minus build/ and template/) is overlaid into
//     build/<fn>/<handler_folder|function>, and configuration.copy paths are
//     copied to build/<fn>/function/<path>;
//   - golang-http: `gofmt -l` must be empty, then `sh modules-cleanup.sh`,
//     `go test ./... -cover` in function/ (skippable), and
//     `CGO_ENABLED=0 go build -o handler .`, sharing the caller's GOCACHE
//     (both with -trimpath, so results are shared across build directories);
//   - python3 (a process per request, under prescale's classic watchdog) and
//     python3-http (index.py is the replica's HTTP server): nothing to
//     compile; the interpreter must exist.
//
// The result is a Registry of Artifacts keyed by image, which the gateway API
// uses to turn a deployment's image into something runnable.
package build
