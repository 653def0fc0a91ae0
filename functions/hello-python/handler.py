"""hello-python: prescale's workload function (classic python3 template).

It greets with the request body and then burns a fixed amount of CPU time per
request so that load, per-replica concurrency and replica counts matter.

Environment:
    cpu_ms  CPU milliseconds to burn per request (default 20, allowed 0..10000).
            The time is measured with time.process_time(), so it is CPU time,
            not wall time: two requests sharing one core each take twice as
            long, as a CPU-bound service would.
"""
import os
import time

DEFAULT_CPU_MS = 20
MAX_CPU_MS = 10000
MAX_NAME = 200


def cpu_ms_from_env(environ=None):
    """Returns the configured CPU burn in milliseconds, or raises ValueError."""
    environ = os.environ if environ is None else environ
    raw = environ.get("cpu_ms", "").strip()
    if raw == "":
        return DEFAULT_CPU_MS
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("cpu_ms=%r: want a whole number of milliseconds 0..%d" % (raw, MAX_CPU_MS))
    if value < 0 or value > MAX_CPU_MS:
        raise ValueError("cpu_ms=%d: out of range, allowed 0..%d" % (value, MAX_CPU_MS))
    return value


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


def handle(req):
    """Greets with the request body after burning cpu_ms of CPU."""
    cpu_ms = cpu_ms_from_env()
    burn(cpu_ms)
    return greeting(req)
