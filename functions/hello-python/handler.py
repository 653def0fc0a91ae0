"""hello-python: prescale's workload function.

It runs under either Python template: the classic python3 template (a process
per request: handle(req) gets the body as a string) or python3-http (one
process per replica: handle(event, context) gets event.body as bytes); the
same greeting either way.

It greets with the request body after a fixed amount of work per request, so
that load, per-replica concurrency and replica counts matter. The work has two
parts:

Environment:
    cpu_ms    CPU milliseconds to burn per request (default 20, allowed 0..10000).
              Measured with time.process_time(), so it is CPU time, not wall
              time: two requests sharing one core each take twice as long, as
              a CPU-bound service would.
    sleep_ms  Milliseconds spent waiting per request, as a call to a database or
              another service would (default 0, allowed 0..60000). With
              max_inflight 1 a replica serves at most 1000/sleep_ms requests a
              second while using almost no CPU, so N replicas serve N times the
              load even on a small machine.
    spans_file  If set, every request appends one line "<start> <end>\\n" (Unix
              seconds, wall clock) to this file: the service interval of the
              request inside the function, for tests and benchmarks that check
              how many requests were served at once.
"""
import os
import time

DEFAULT_CPU_MS = 20
MAX_CPU_MS = 10000
DEFAULT_SLEEP_MS = 0
MAX_SLEEP_MS = 60000
MAX_NAME = 200


def ms_from_env(name, default, maximum, environ=None):
    """Returns the whole number of milliseconds in env var name, or raises ValueError."""
    environ = os.environ if environ is None else environ
    raw = environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("%s=%r: want a whole number of milliseconds 0..%d" % (name, raw, maximum))
    if value < 0 or value > maximum:
        raise ValueError("%s=%d: out of range, allowed 0..%d" % (name, value, maximum))
    return value


def cpu_ms_from_env(environ=None):
    """Returns the configured CPU burn in milliseconds, or raises ValueError."""
    return ms_from_env("cpu_ms", DEFAULT_CPU_MS, MAX_CPU_MS, environ)


def sleep_ms_from_env(environ=None):
    """Returns the configured wait in milliseconds, or raises ValueError."""
    return ms_from_env("sleep_ms", DEFAULT_SLEEP_MS, MAX_SLEEP_MS, environ)


def burn(cpu_ms):
    """Spins for cpu_ms milliseconds of process CPU time; returns the rounds done."""
    if cpu_ms <= 0:
        return 0
    deadline = time.process_time() + cpu_ms / 1000.0
    rounds = 0
    x = 1
    while time.process_time() < deadline:
        for _ in range(500):
            x = (x * 48271) % 2147483647
        rounds += 1
    return rounds


def greeting(body):
    name = " ".join(body.split())
    if not name:
        name = "world"
    if len(name) > MAX_NAME:
        name = name[:MAX_NAME] + "..."
    return "Hello, %s!" % name


def record_span(path, start, end):
    """Appends one service interval to path (one short write: atomic with O_APPEND)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, ("%.6f %.6f\n" % (start, end)).encode())
    finally:
        os.close(fd)


def handle(req, context=None):
    """Greets with the request body after burning cpu_ms of CPU and waiting sleep_ms.

    req is the body (python3) or the request event (python3-http, with context).
    """
    if context is not None:
        req = req.body.decode("utf-8", "replace")
    cpu_ms = cpu_ms_from_env()
    sleep_ms = sleep_ms_from_env()
    start = time.time()
    burn(cpu_ms)
    if sleep_ms > 0:
        time.sleep(sleep_ms / 1000.0)
    spans = os.environ.get("spans_file", "").strip()
    if spans:
        record_span(spans, start, time.time())
    return greeting(req)
