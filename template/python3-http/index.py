"""Entry point of a python3-http function: the replica's own HTTP server.

One long-running process serves every request (of-watchdog's http mode), so a
request costs no fork: function.handler.handle(event, context) is called in a
thread per request. Standard library only (the upstream template uses Flask
and waitress, which this machine's functions cannot install).

Settings (environment):
    upstream_url  http://127.0.0.1:<port>: the address to listen on (of-watchdog
                  and prescale's plugin set it); else `port`; else 5000.
    bind          the address to bind (default 127.0.0.1).

Request → event: body (bytes), headers (dict, names as sent), method, query
(dict of the first value of each parameter), path. context: hostname.
Handler result → response: None → 200 empty; str or bytes → 200 with it;
dict → statusCode (default 200), body (str, bytes, or JSON for a dict or list)
and headers; anything else → 500 naming the type. An exception → 500 with its
message, and the traceback on stderr. GET /_/health answers 200 "OK".
SIGTERM (and SIGINT): stop accepting, finish the requests in flight, exit 0.
"""
import json
import os
import signal
import socket
import sys
import threading
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from function import handler

DEFAULT_PORT = 5000
MAX_BODY = 64 << 20  # bytes; a larger request gets 413


class Event:
    def __init__(self, body, headers, method, query, path):
        self.body = body
        self.headers = headers
        self.method = method
        self.query = query
        self.path = path


class Context:
    def __init__(self):
        self.hostname = os.environ.get("HOSTNAME", socket.gethostname())


def listen_address(environ=None):
    """Returns (host, port) from bind, upstream_url or port, or raises ValueError naming the setting."""
    environ = os.environ if environ is None else environ
    host = environ.get("bind", "").strip() or "127.0.0.1"
    raw = environ.get("upstream_url", "").strip()
    if raw:
        u = urllib.parse.urlsplit(raw)
        try:
            port = u.port
        except ValueError:
            port = None
        if u.scheme != "http" or port is None or not 1 <= port <= 65535:
            raise ValueError("upstream_url=%r: want http://host:port with a port in 1..65535" % raw)
        return host, port
    raw = environ.get("port", "").strip()
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= 65535:
            raise ValueError("port=%r: want a whole number in 1..65535" % raw)
        return host, int(raw)
    return host, DEFAULT_PORT


def to_response(result):
    """Maps a handler's result to (status, headers dict, body bytes)."""
    if result is None:
        return 200, {}, b""
    if isinstance(result, bytes):
        return 200, {"Content-Type": "application/octet-stream"}, result
    if isinstance(result, str):
        return 200, {"Content-Type": "text/plain; charset=utf-8"}, result.encode()
    if isinstance(result, dict):
        status = result.get("statusCode", 200)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            return 500, {}, ("handler returned statusCode %r: want an int in 100..599\n" % (status,)).encode()
        headers = result.get("headers") or {}
        if not isinstance(headers, dict):
            return 500, {}, ("handler returned headers of type %s: want a dict\n" % type(headers).__name__).encode()
        headers = {str(k): str(v) for k, v in headers.items()}
        body = result.get("body")
        if body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode()
        elif isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif not isinstance(body, bytes):
            return 500, {}, ("handler returned a body of type %s: want str, bytes, dict or list\n" % type(body).__name__).encode()
        return status, headers, body
    return 500, {}, ("handler returned %s: want None, str, bytes or a dict\n" % type(result).__name__).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every response has a Content-Length
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    timeout = 120  # seconds an idle keep-alive connection is kept: longer than the plugin's 90 s, so the client closes first (no request on a closing connection)
    context = None

    def setup(self):
        super().setup()
        self.server.track(self, busy=False)

    def finish(self):
        self.server.untrack(self)
        super().finish()

    def parse_request(self):
        self.server.track(self, busy=True)  # a request line was read
        return super().parse_request()

    def log_message(self, fmt, *args):  # no access log: the plugin logs requests
        pass

    def send(self, status, headers, body):
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        """Returns the request body, or None after answering a bad one."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024).split(b";")[0].strip()
                try:
                    size = int(line, 16)
                except ValueError:
                    self.close_connection = True
                    self.send(400, {}, b"bad chunked request body\n")
                    return None
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    self.send(413, {}, b"request body over %d bytes\n" % MAX_BODY)
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        raw = self.headers.get("Content-Length", "0").strip() or "0"
        if not raw.isdigit():
            self.close_connection = True
            self.send(400, {}, b"bad Content-Length\n")
            return None
        n = int(raw)
        if n > MAX_BODY:
            self.close_connection = True
            self.send(413, {}, b"request body over %d bytes\n" % MAX_BODY)
            return None
        return self.rfile.read(n) if n else b""

    def serve(self):
        try:
            self.serve_request()
        finally:
            if not self.server.track(self, busy=False):
                self.close_connection = True  # stopping: no further request on this connection

    def serve_request(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/_/health" and self.command in ("GET", "HEAD"):
            self.send(200, {"Content-Type": "text/plain"}, b"OK")
            return
        body = self.read_body()
        if body is None:
            return
        query = {k: v[0] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
        event = Event(body, dict(self.headers.items()), self.command, query, u.path)
        try:
            result = handler.handle(event, self.context)
        except Exception as e:  # the function's error: a 500 with its message
            traceback.print_exc(file=sys.stderr)
            self.send(500, {"Content-Type": "text/plain"}, ("%s: %s\n" % (type(e).__name__, e)).encode())
            return
        self.send(*to_response(result))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = serve


class Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for the requests in flight
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.conns = {}  # handler → busy
        self.stopping = False

    def track(self, h, busy):
        """Records whether h is serving a request; False once stopping (and h idle is closed)."""
        with self.lock:
            self.conns[h] = busy
            if self.stopping and not busy:
                self.close_idle(h)
            return not self.stopping

    def untrack(self, h):
        with self.lock:
            self.conns.pop(h, None)

    def close_idle(self, h):
        try:
            h.connection.shutdown(socket.SHUT_RDWR)  # its wait for a next request ends
        except OSError:
            pass

    def stop(self):
        """Stops accepting; idle keep-alive connections close, requests in flight finish."""
        with self.lock:
            self.stopping = True
            for h, busy in self.conns.items():
                if not busy:
                    self.close_idle(h)
        self.shutdown()


def main():
    try:
        host, port = listen_address()
    except ValueError as e:
        print("python3-http: %s" % e, file=sys.stderr)
        return 2
    Handler.context = Context()
    server = Server((host, port), Handler)

    def stop(signum, frame):
        # shutdown() waits for serve_forever to return: call it off this thread.
        threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("python3-http: listening on %s:%d" % (host, port), file=sys.stderr, flush=True)
    server.serve_forever()
    server.server_close()  # joins the request threads
    return 0


if __name__ == "__main__":
    sys.exit(main())
