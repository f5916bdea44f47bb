#!/usr/bin/python3
"""A TCP fault proxy for the cloudfs tests: relays connections to an OpenStack (the fake, or devcloud)
and, when armed, breaks the answer to a chosen request the way a network or a dying server does.
Standard library only.

Faults (applied to the answer of the next `count` requests whose path starts with `path`):
  reset_head   send part of the response head, then reset the connection (RST)
  close_head   send part of the response head, then close the connection (FIN), as a server that
               exits mid-answer does
  reset_body   send the head and part of the body, then reset
  stall        send nothing more, hold the connection open until the client gives up
  drip         send the answer one byte every `delay_ms` (default 50)

The catalog names the services' real addresses, which would take cloudfs around the proxy. So the
proxy listens on another loopback address with the SAME port (127.0.0.3:P for 127.0.0.1:P) and
rewrites "127.0.0.1:P" to "127.0.0.3:P" in what it relays back: same length, so Content-Length
stays true. Point OS_AUTH_URL at the proxy's address and every call goes through it.

In a test:
    with FaultProxy([fake_port]) as px:          # listens on 127.0.0.3:fake_port
        env["OS_AUTH_URL"] = px.url(fake_port) + "/identity/v3"
        px.arm("reset_head", path="/compute/v2.1/servers/detail", count=1)
In front of devcloud (one proxy for the ports its catalog uses):
    python3 tests/hostile/faultproxy.py --ports 5000,8774,9292,8776,9696 \
        --fault reset_body --path /compute/v2.1/servers --count 3
    OS_AUTH_URL=http://127.0.0.3:5000/v3 cloudfs ...
"""

import argparse
import re
import socket
import struct
import threading
import time

REQUEST_LINE = re.compile(rb"(?:^|\r\n)(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP/1\.[01]\r\n")
FAULTS = ("reset_head", "close_head", "reset_body", "stall", "drip")


def reset(sock):
    """Close with RST rather than FIN, as a crashed peer or a middlebox does. The relay thread
    blocked in recv() on the same socket would keep it open past close(): SHUT_RD wakes it
    (sending nothing), then the close with a zero linger sends the RST."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    time.sleep(0.02)
    sock.close()


class FaultProxy:
    def __init__(self, ports, upstream="127.0.0.1", listen="127.0.0.3"):
        self.ports, self.upstream, self.listen = list(ports), upstream, listen
        self.lock = threading.Lock()
        self.rules = []          # [fault, path, count left, delay_ms]
        self.fired = []          # (fault, path) of every fault applied
        self.closing = threading.Event()
        self.listeners = []
        self.rewrites = [(("%s:%d" % (upstream, p)).encode(), ("%s:%d" % (listen, p)).encode())
                         for p in self.ports]

    def url(self, port):
        return "http://%s:%d" % (self.listen, port)

    def arm(self, fault, path="/", count=1, delay_ms=50):
        assert fault in FAULTS, fault
        with self.lock:
            self.rules.append([fault, path, count, delay_ms])

    def disarm(self):
        with self.lock:
            self.rules = []

    def start(self):
        for port in self.ports:
            ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind((self.listen, port))
            ls.listen(64)
            ls.settimeout(0.2)
            t = threading.Thread(target=self._accept, args=(ls, port), daemon=True)
            self.listeners.append(t)
            t.start()
        return self

    def stop(self):
        # Each accept loop closes its own listener: a socket closed under a thread blocked in
        # accept() can keep the port bound for the next proxy.
        self.closing.set()
        for t in self.listeners:
            t.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------ relaying
    def _accept(self, ls, port):
        with ls:
            self._accept_loop(ls, port)

    def _accept_loop(self, ls, port):
        while not self.closing.is_set():
            try:
                client, _ = ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                up = socket.create_connection((self.upstream, port), timeout=5)
            except OSError:
                reset(client)
                continue
            up.settimeout(None)
            conn = {"fault": None, "client": client, "up": up}
            threading.Thread(target=self._requests, args=(conn,), daemon=True).start()
            threading.Thread(target=self._answers, args=(conn,), daemon=True).start()

    def _take_rule(self, path):
        with self.lock:
            for rule in self.rules:
                if rule[2] != 0 and path.startswith(rule[1]):
                    rule[2] -= 1
                    self.fired.append((rule[0], path))
                    return rule[0], rule[3]
        return None

    def _requests(self, conn):
        """Client to upstream: watch request lines, arm this connection's next answer."""
        client, up = conn["client"], conn["up"]
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                for m in REQUEST_LINE.finditer(data):
                    rule = self._take_rule(m.group(2).decode("latin-1").split("?")[0])
                    if rule:
                        conn["fault"] = rule
                up.sendall(data)
        except OSError:
            pass
        try:
            up.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _rewrite(self, data):
        for old, new in self.rewrites:
            data = data.replace(old, new)
        return data

    def _split_tail(self, data):
        """Holds back a tail that may be the start of a rewrite target split across two reads."""
        for n in range(max(len(o) for o, _ in self.rewrites) - 1, 0, -1):
            if len(data) >= n and any(o.startswith(data[-n:]) for o, _ in self.rewrites):
                return data[:-n], data[-n:]
        return data, b""

    def _answers(self, conn):
        """Upstream to client, breaking an armed answer."""
        client, up = conn["client"], conn["up"]
        pending = b""
        try:
            while True:
                # A held-back tail goes out once upstream pauses: nothing completed it.
                up.settimeout(0.05 if pending else None)
                try:
                    data = up.recv(65536)
                except socket.timeout:
                    client.sendall(pending)
                    pending = b""
                    continue
                if not data:
                    break
                data, pending = self._split_tail(self._rewrite(pending + data))
                fault, conn["fault"] = conn["fault"], None
                if fault and fault[0] == "drip":
                    conn["drip"] = fault[1]
                elif fault:
                    self._break(conn, fault[0], data + pending)
                    return
                if conn.get("drip"):
                    for i in range(len(data)):
                        client.sendall(data[i:i + 1])
                        time.sleep(conn["drip"] / 1000)
                else:
                    client.sendall(data)
            if pending:
                client.sendall(pending)
        except OSError:
            pass
        finally:
            if not conn.get("reset"):
                client.close()
            up.close()

    def _break(self, conn, kind, data):
        """Ends the connection part way through the answer that starts in @data."""
        client = conn["client"]
        line_end = data.find(b"\r\n")
        head_end = data.find(b"\r\n\r\n")
        if kind in ("reset_head", "close_head"):
            # The status line and nothing more: inside the head.
            client.sendall(data[:line_end + 2] if line_end >= 0 else data[:1])
            if kind == "close_head":
                try:
                    client.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
        elif kind == "reset_body":
            body_start = head_end + 4 if head_end >= 0 else len(data)
            client.sendall(data[:body_start + max(1, (len(data) - body_start) // 2)])
        elif kind == "stall":
            # Hold the connection open and silent until the client hangs up.
            client.settimeout(0.2)
            while not self.closing.is_set():
                try:
                    if client.recv(65536, socket.MSG_PEEK) == b"":
                        break
                except socket.timeout:
                    continue
                except OSError:
                    break
                time.sleep(0.05)
        time.sleep(0.02)
        conn["reset"] = True
        reset(client)


def main(argv=None):
    ap = argparse.ArgumentParser(description="TCP fault proxy (see the module's docstring).")
    ap.add_argument("--ports", required=True, help="comma-separated upstream ports to relay")
    ap.add_argument("--upstream", default="127.0.0.1")
    ap.add_argument("--listen", default="127.0.0.3")
    ap.add_argument("--fault", choices=FAULTS)
    ap.add_argument("--path", default="/")
    ap.add_argument("--count", type=int, default=-1, help="how many answers to break (-1: all)")
    ap.add_argument("--delay-ms", type=int, default=50)
    args = ap.parse_args(argv)
    px = FaultProxy([int(p) for p in args.ports.split(",")], args.upstream, args.listen).start()
    if args.fault:
        px.arm(args.fault, args.path, args.count, args.delay_ms)
    print("faultproxy: %s -> %s" % (", ".join(px.url(p) for p in px.ports), args.upstream), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        px.stop()


if __name__ == "__main__":
    main()
