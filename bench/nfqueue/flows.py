#!/usr/bin/env python3
"""Load generator for nfqueue_bench.sh. Modes:
  connect ADDR PORT N          N sequential TCP connects; prints p50 and p99 connect time in us
                               (the SYN is a flow's first packet: with egressguard it goes
                               through NFQUEUE)
  flows ADDR NAME SECONDS T    T threads open TLS flows (ClientHello with SNI NAME, wait for the
                               ServerHello, close) for SECONDS; prints flows/s"""
import socket
import ssl
import sys
import threading
import time


def client_hello(name):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname=name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def connect_mode(addr, port, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        s = socket.create_connection((addr, port), timeout=3)
        times.append((time.perf_counter_ns() - t0) / 1000)
        s.close()
    times.sort()
    print(f"{times[len(times) // 2]:.0f} {times[int(len(times) * 0.99)]:.0f}")


def flows_mode(addr, name, seconds, threads):
    hello = client_hello(name)
    count = [0] * threads
    deadline = time.monotonic() + seconds

    def run(i):
        while time.monotonic() < deadline:
            s = socket.create_connection((addr, 443), timeout=3)
            s.sendall(hello)
            s.recv(5)
            s.close()
            count[i] += 1

    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(f"{sum(count) / seconds:.0f}")


if sys.argv[1] == "connect":
    connect_mode(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
else:
    flows_mode(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]))
