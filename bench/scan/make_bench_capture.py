#!/usr/bin/env python3
"""Writes a large, deterministic benchmark capture for `egressguard scan` (bench/scan/).

Classic pcap, LINKTYPE_ETHERNET, microsecond timestamps. A realistic gateway mix of many
concurrent flows from gov-managed (10.8.0.0/16, fd00:8::/64) and BYOD (10.30.0.0/16,
fd00:30::/64) devices:

  tls   TCP 443: SYN/SYN-ACK/ACK, a TLS 1.3 ClientHello with SNI (the real curl ClientHello of
        examples/captures/default.pcap with the SNI patched; some split over two segments),
        ServerHello + ChangeCipherSpec + encrypted flight, 20-200 bulk segments (200-1460 B,
        mostly server to client) with delayed ACKs, FIN/ACK both ways
  http  TCP 80: handshake, GET with Host, response headers + body bulk, FIN both ways
  dns   UDP 53: A/AAAA query and its answer
  quic  UDP 443: the real QUIC v1 client and server Initials of default.pcap (SNI
        www.tiktok.com) on a new 5-tuple, then short-header packets both ways

Names: mostly ordinary sites; about one flow in ten names a blocked category (most from
domains/catalogue/tiktok.txt, some Telegram/VK), so gov-managed flows produce block events.
IP and TCP/UDP checksums are correct. The same seed and arguments give the same bytes.

Usage: make_bench_capture.py [--packets N] [--seed S] [--out FILE]
Prints a summary and writes FILE.meta (key=value: packets, flows per kind, bytes).
Standard library only; about 1 M packets in well under a minute.
"""

import argparse
import os
import random
import struct
import sys
import time

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_CAPTURE = os.path.join(REPO, "examples", "captures", "default.pcap")

GW_MAC = bytes.fromhex("02e900ff0001")  # gateway side (client traffic leaves from here)
SRV_MAC = bytes.fromhex("02e900ff0002")  # server side

ORDINARY_SITES = [
    "example.org", "example.net", "example.com", "wikipedia.org", "wikimedia.org", "github.com",
    "githubusercontent.com", "microsoft.com", "office.com", "office365.com", "live.com",
    "windowsupdate.com", "apple.com", "icloud.com", "mzstatic.com", "google.com", "gstatic.com",
    "googleapis.com", "youtube.com", "ytimg.com", "mozilla.org", "firefox.com", "debian.org",
    "ubuntu.com", "cloudflare.com", "akamaihd.net", "amazonaws.com", "azure.com", "linkedin.com",
    "zoom.us", "slack.com", "atlassian.net", "nrk.no", "bbc.co.uk", "reuters.com", "gov.uk",
    "europa.eu", "regjeringen.no", "altinn.no", "bankid.no", "vg.no", "dropbox.com",
    "salesforce.com", "adobe.com", "openstreetmap.org", "letsencrypt.org", "digicert.com",
]
ORDINARY_PREFIXES = ["www", "api", "cdn", "static", "login", "mail", "img", "assets", "update",
                     "m", "docs", "portal", "edge", "media", "auth"]
BLOCKED_EXTRA = ["web.telegram.org", "t.me", "api.telegram.org", "vk.com", "userapi.com",
                 "sun9-1.userapi.com", "ok.ru", "mail.ru"]
BLOCKED_PREFIXES = ["www", "api16-normal-c-useast1a", "v16m", "mon", "log", "p16-sign-va",
                    "api22-core-c-useast1a", "webcast", "mcs", "sf16-website-login"]


# ------------------------------------------------------------------ checksums
def csum_words(data):
    """Sum of the 16-bit words of data, read little-endian (native), odd byte padded."""
    if len(data) & 1:
        data = bytes(data) + b"\0"
    return sum(memoryview(data).cast("H"))


def fold(total):
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


class PayloadPool:
    """A random buffer plus prefix sums of its words, so a slice's checksum sum is O(1)."""

    def __init__(self, rng, size=1 << 17):
        self.buf = bytes(rng.getrandbits(8) for _ in range(size))
        words = memoryview(self.buf).cast("H")
        prefix = [0] * (len(words) + 1)
        acc = 0
        for i, w in enumerate(words):
            acc += w
            prefix[i + 1] = acc
        self.prefix = prefix
        self.size = size

    def take(self, rng, length):
        off = rng.randrange(0, (self.size - length - 2) // 2) * 2
        end = off + length
        total = self.prefix[end >> 1] - self.prefix[off >> 1]
        if length & 1:
            total += self.buf[end - 1]  # last byte in the low half of an LE word
        return self.buf[off:end], total


# ------------------------------------------------------------------ headers
ETH_V4 = struct.pack("!6s6sH", SRV_MAC, GW_MAC, 0x0800)
ETH_V4_REV = struct.pack("!6s6sH", GW_MAC, SRV_MAC, 0x0800)
ETH_V6 = struct.pack("!6s6sH", SRV_MAC, GW_MAC, 0x86DD)
ETH_V6_REV = struct.pack("!6s6sH", GW_MAC, SRV_MAC, 0x86DD)

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


class Endpoints:
    """One direction of a flow: addresses, their pseudo-header partial sum, link header."""

    __slots__ = ("src", "dst", "v6", "eth", "pseudo", "ident")

    def __init__(self, src, dst, v6, to_server):
        self.src, self.dst, self.v6 = src, dst, v6
        if v6:
            self.eth = ETH_V6 if to_server else ETH_V6_REV
        else:
            self.eth = ETH_V4 if to_server else ETH_V4_REV
        self.pseudo = csum_words(src + dst)
        self.ident = 0

    def reverse(self):
        return Endpoints(self.dst, self.src, self.v6, self.eth in (ETH_V4_REV, ETH_V6_REV))


def l3(ep, proto, l4_len, l4_sum_le):
    """IP header for an L4 segment whose word sum (LE, checksum field 0) is l4_sum_le.
    Returns (ip header, L4 checksum in LE word order)."""
    pseudo = ep.pseudo + proto * 256 + ((l4_len & 0xFF) << 8) + (l4_len >> 8)
    l4_csum = (~fold(pseudo + l4_sum_le)) & 0xFFFF
    if ep.v6:
        hdr = struct.pack("!IHBB16s16s", 0x60000000, l4_len, proto, 64, ep.src, ep.dst)
        return hdr, l4_csum
    ep.ident = (ep.ident + 1) & 0xFFFF
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + l4_len, ep.ident, 0x4000, 64, proto,
                                0, ep.src, ep.dst))
    struct.pack_into("<H", hdr, 10, (~fold(csum_words(hdr))) & 0xFFFF)
    return bytes(hdr), l4_csum


SYN_OPTIONS = bytes.fromhex("020405b40402080a0000000000000000" "01030307")  # MSS SACK TS NOP WS


def tcp(ep, sport, dport, seq, ack, flags, payload=b"", payload_sum=None, options=b""):
    hlen = 20 + len(options)
    hdr = bytearray(struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                                (hlen // 4) << 4, flags, 64240, 0, 0) + options)
    if payload_sum is None:
        payload_sum = csum_words(payload) if payload else 0
    l4_len = hlen + len(payload)
    ip, c = l3(ep, 6, l4_len, csum_words(hdr) + payload_sum)
    struct.pack_into("<H", hdr, 16, c)
    return b"".join((ep.eth, ip, hdr, payload))


def udp(ep, sport, dport, payload, payload_sum=None):
    l4_len = 8 + len(payload)
    hdr = bytearray(struct.pack("!HHHH", sport, dport, l4_len, 0))
    if payload_sum is None:
        payload_sum = csum_words(payload)
    ip, c = l3(ep, 17, l4_len, csum_words(hdr) + payload_sum)
    struct.pack_into("<H", hdr, 6, c or 0xFFFF)
    return b"".join((ep.eth, ip, hdr, payload))


# ------------------------------------------------------------------ templates from default.pcap
def read_pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise SystemExit(f"{path}: not a little-endian classic pcap (magic {magic:#x})")
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from("<IIII", data, off)
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def l4_payload(frame):
    """(proto, sport, dport, payload) of an Ethernet/IPv4|IPv6 TCP|UDP frame, else None."""
    etype = struct.unpack_from("!H", frame, 12)[0]
    if etype == 0x0800:
        ihl = (frame[14] & 0x0F) * 4
        proto, l4 = frame[23], 14 + ihl
        end = 14 + struct.unpack_from("!H", frame, 16)[0]
    elif etype == 0x86DD:
        proto, l4 = frame[20], 54
        end = 54 + struct.unpack_from("!H", frame, 18)[0]
    else:
        return None
    sport, dport = struct.unpack_from("!HH", frame, l4)
    if proto == 6:
        return proto, sport, dport, frame[l4 + (frame[l4 + 12] >> 4) * 4:end]
    if proto == 17:
        return proto, sport, dport, frame[l4 + 8:end]
    return None


def load_templates(path):
    hello, quic_client, quic_server = None, None, []
    for frame in read_pcap_frames(path):
        parsed = l4_payload(frame)
        if parsed is None:
            continue
        proto, sport, dport, payload = parsed
        if (proto == 6 and hello is None and dport == 443 and len(payload) > 9
                and payload[0] == 0x16 and payload[5] == 0x01):
            hello = payload
        elif proto == 17 and dport == 443 and quic_client is None and payload[:1] \
                and payload[0] & 0xF0 == 0xC0 and len(payload) >= 1200:
            quic_client = payload  # long header, type Initial
        elif proto == 17 and sport == 443 and quic_client is not None and not quic_server \
                and payload[0] & 0x80:
            quic_server.append(payload)
    if hello is None or quic_client is None or not quic_server:
        raise SystemExit(f"{path}: no TLS ClientHello or QUIC Initials found")
    return hello, quic_client, quic_server


class ClientHelloTemplate:
    """The real ClientHello record, split into fields so the SNI can be replaced."""

    def __init__(self, record):
        body = record[9:5 + struct.unpack_from("!H", record, 3)[0]]
        p = 2 + 32  # legacy_version, random
        p += 1 + body[p]  # session id
        p += 2 + struct.unpack_from("!H", body, p)[0]  # cipher suites
        p += 1 + body[p]  # compression methods
        self.head = body[:p]
        ext_end = p + 2 + struct.unpack_from("!H", body, p)[0]
        p += 2
        self.before_sni, self.after_sni = [], []
        seen_sni = False
        while p + 4 <= ext_end:
            etype, elen = struct.unpack_from("!HH", body, p)
            ext = body[p:p + 4 + elen]
            p += 4 + elen
            if etype == 0:
                seen_sni = True
            elif etype == 21:
                continue  # padding: recomputed
            else:
                (self.after_sni if seen_sni else self.before_sni).append(ext)
        self.padded_len = len(body)  # OpenSSL pads the handshake body to this length

    def build(self, sni, rng):
        name = sni.encode()
        sni_ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
        head = bytearray(self.head)
        head[2:34] = rng.getrandbits(256).to_bytes(32, "big")  # client random
        exts = b"".join(self.before_sni) + sni_ext + b"".join(self.after_sni)
        pad = self.padded_len - (len(head) + 2 + len(exts))
        if pad >= 4:
            exts += struct.pack("!HH", 21, pad - 4) + bytes(pad - 4)
        body = bytes(head) + struct.pack("!H", len(exts)) + exts
        hs = bytes([1]) + len(body).to_bytes(3, "big") + body
        return struct.pack("!BHH", 0x16, 0x0301, len(hs)) + hs


def server_hello(rng):
    sid = rng.getrandbits(256).to_bytes(32, "big")
    exts = struct.pack("!HHH", 43, 2, 0x0304) + struct.pack("!HHHH", 51, 36, 0x001D, 32) + \
        rng.getrandbits(256).to_bytes(32, "big")
    body = struct.pack("!H", 0x0303) + rng.getrandbits(256).to_bytes(32, "big") + \
        bytes([32]) + sid + struct.pack("!HB", 0x1302, 0) + struct.pack("!H", len(exts)) + exts
    hs = bytes([2]) + len(body).to_bytes(3, "big") + body
    return struct.pack("!BHH", 0x16, 0x0303, len(hs)) + hs + bytes.fromhex("140303000101")


def dns_name(name):
    return b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"


# ------------------------------------------------------------------ flows
class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.pool = PayloadPool(self.rng)
        record, self.quic_client, self.quic_server = load_templates(DEFAULT_CAPTURE)
        self.hello = ClientHelloTemplate(record)
        self.blocked = self._blocked_names()
        self.ordinary = [f"{p}.{s}" for s in ORDINARY_SITES for p in ORDINARY_PREFIXES]
        self.ordinary += [f"host{i}.corp{i % 37}.example.net" for i in range(400)]
        self.gov_hosts = [(10, 8, i // 250, i % 250 + 2) for i in range(4000)]  # below .255.x
        self.byod_hosts = [(10, 30, i // 250, i % 250 + 2) for i in range(2500)]
        self.next_port = {}
        self.hello_cache = {}
        self.counts = {"tls": 0, "http": 0, "dns": 0, "quic": 0, "blocked_named": 0,
                       "ipv6": 0, "split_hello": 0}

    def _blocked_names(self):
        names = []
        path = os.path.join(REPO, "domains", "catalogue", "tiktok.txt")
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                if line.startswith("*."):
                    base = line[2:]
                    names.append(base)
                    names.extend(f"{p}.{base}" for p in BLOCKED_PREFIXES[:3])
                else:
                    names.append(line)
        return names + BLOCKED_EXTRA

    def pick_name(self):
        if self.rng.random() < 0.10:
            self.counts["blocked_named"] += 1
            if self.rng.random() < 0.8:
                return self.rng.choice(self.blocked)
            return self.rng.choice(BLOCKED_EXTRA)
        return self.rng.choice(self.ordinary)

    def endpoints(self, service_port):
        rng = self.rng
        gov = rng.random() < 0.6
        v6 = rng.random() < 0.05
        host = rng.choice(self.gov_hosts if gov else self.byod_hosts)
        if v6:
            self.counts["ipv6"] += 1
            prefix = bytes.fromhex("fd000008" if gov else "fd000030") + bytes(4)
            src = prefix + bytes(6) + bytes(host[2:4])
            dst = bytes.fromhex("20010db8010000000000000000000000")[:14] + \
                rng.randrange(1, 60000).to_bytes(2, "big")
        else:
            src = bytes(host)
            dst = bytes((198, 51, 100, rng.randrange(1, 255))) if rng.random() < 0.5 else \
                bytes((203, 0, 113, rng.randrange(1, 255)))
        if service_port == 53:
            dst = bytes.fromhex("20010db8005300000000000000000053") if v6 else bytes((192, 0, 2, 53))
        port = self.next_port.get(src, 32768 + rng.randrange(0, 20000))
        self.next_port[src] = 32768 + (port - 32768 + 1 + rng.randrange(0, 7)) % 28000
        c2s = Endpoints(src, dst, v6, True)
        return c2s, c2s.reverse(), port

    # Each flow is a generator of frames (bytes), in wire order for that flow.
    def tcp_open(self, c2s, s2c, cport, sport):
        rng = self.rng
        cseq, sseq = rng.getrandbits(32), rng.getrandbits(32)
        yield tcp(c2s, cport, sport, cseq, 0, TCP_SYN, options=SYN_OPTIONS)
        yield tcp(s2c, sport, cport, sseq, cseq + 1, TCP_SYN | TCP_ACK, options=SYN_OPTIONS)
        yield tcp(c2s, cport, sport, cseq + 1, sseq + 1, TCP_ACK)
        return cseq + 1, sseq + 1

    def segment_plan(self, segments, upload_share):
        """(to_server, size) per bulk segment: half full-sized, the rest 200-1460 B."""
        rng = self.rng
        return [(rng.random() < upload_share,
                 1460 if rng.random() < 0.5 else rng.randrange(200, 1461))
                for _ in range(segments)]

    def bulk(self, c2s, s2c, cport, sport, state, plan):
        """state = [cseq, sseq]; data segments with an ACK from the receiver every 2-4."""
        rng, pool = self.rng, self.pool
        unacked = [0, 0]
        for up, size in plan:
            payload, psum = pool.take(rng, size)
            if up:
                yield tcp(c2s, cport, sport, state[0], state[1], TCP_ACK | TCP_PSH, payload, psum)
                state[0] += size
            else:
                yield tcp(s2c, sport, cport, state[1], state[0], TCP_ACK | TCP_PSH, payload, psum)
                state[1] += size
            d = 0 if up else 1
            unacked[d] += 1
            if unacked[d] >= rng.randrange(2, 5):
                unacked[d] = 0
                if up:
                    yield tcp(s2c, sport, cport, state[1], state[0], TCP_ACK)
                else:
                    yield tcp(c2s, cport, sport, state[0], state[1], TCP_ACK)

    def tcp_close(self, c2s, s2c, cport, sport, state):
        yield tcp(c2s, cport, sport, state[0], state[1], TCP_FIN | TCP_ACK)
        yield tcp(s2c, sport, cport, state[1], state[0] + 1, TCP_FIN | TCP_ACK)
        yield tcp(c2s, cport, sport, state[0] + 1, state[1] + 1, TCP_ACK)

    def tls_flow(self):
        rng = self.rng
        self.counts["tls"] += 1
        name = self.pick_name()
        c2s, s2c, cport = self.endpoints(443)
        cseq, sseq = yield from self.tcp_open(c2s, s2c, cport, 443)
        hello = self.hello.build(name, rng)
        if rng.random() < 0.05:  # ClientHello split over two segments
            self.counts["split_hello"] += 1
            cut = rng.randrange(10, len(hello) - 10)
            yield tcp(c2s, cport, 443, cseq, sseq, TCP_ACK, hello[:cut])
            yield tcp(c2s, cport, 443, cseq + cut, sseq, TCP_ACK | TCP_PSH, hello[cut:])
        else:
            yield tcp(c2s, cport, 443, cseq, sseq, TCP_ACK | TCP_PSH, hello)
        state = [cseq + len(hello), sseq]
        flight = server_hello(rng)
        enc, _ = self.pool.take(rng, rng.randrange(2500, 4200))
        flight += struct.pack("!BHH", 0x17, 0x0303, len(enc)) + enc
        for i in range(0, len(flight), 1460):
            seg = flight[i:i + 1460]
            yield tcp(s2c, 443, cport, state[1], state[0], TCP_ACK | TCP_PSH, seg)
            state[1] += len(seg)
        fin, _ = self.pool.take(rng, 74)
        fin = bytes.fromhex("140303000101") + struct.pack("!BHH", 0x17, 0x0303, len(fin)) + fin
        yield tcp(c2s, cport, 443, state[0], state[1], TCP_ACK | TCP_PSH, fin)
        state[0] += len(fin)
        yield from self.bulk(c2s, s2c, cport, 443, state,
                             self.segment_plan(rng.randrange(20, 201), 0.15))
        yield from self.tcp_close(c2s, s2c, cport, 443, state)

    def http_flow(self):
        rng = self.rng
        self.counts["http"] += 1
        name = self.pick_name()
        c2s, s2c, cport = self.endpoints(80)
        cseq, sseq = yield from self.tcp_open(c2s, s2c, cport, 80)
        path = rng.choice(["/", "/index.html", "/api/v1/status", "/static/app.js",
                           f"/img/{rng.randrange(1 << 20)}.jpg"])
        req = (f"GET {path} HTTP/1.1\r\nHost: {name}\r\nUser-Agent: curl/7.88.1\r\n"
               f"Accept: */*\r\n\r\n").encode()
        yield tcp(c2s, cport, 80, cseq, sseq, TCP_ACK | TCP_PSH, req)
        state = [cseq + len(req), sseq]
        plan = self.segment_plan(rng.randrange(20, 201), 0.0)  # body only: no pipelining
        body, _ = self.pool.take(rng, 1200)
        length = len(body) + sum(size for _, size in plan)
        resp = (f"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: "
                f"application/octet-stream\r\nContent-Length: {length}\r\n"
                f"Connection: keep-alive\r\n\r\n").encode() + body
        yield tcp(s2c, 80, cport, state[1], state[0], TCP_ACK | TCP_PSH, resp)
        state[1] += len(resp)
        yield from self.bulk(c2s, s2c, cport, 80, state, plan)
        yield from self.tcp_close(c2s, s2c, cport, 80, state)

    def dns_flow(self):
        rng = self.rng
        self.counts["dns"] += 1
        name = self.pick_name()
        c2s, s2c, cport = self.endpoints(53)
        qtype = 28 if c2s.v6 or rng.random() < 0.3 else 1
        txid = rng.getrandbits(16)
        question = dns_name(name) + struct.pack("!HH", qtype, 1)
        query = struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 1) + question + \
            bytes.fromhex("0000291000000000000000")  # OPT, 4096-byte UDP payload
        yield udp(c2s, cport, 53, query)
        if qtype == 1:
            rdata = bytes((198, 51, 100, rng.randrange(1, 255)))
        else:
            rdata = bytes.fromhex("20010db8010000000000000000000010")
        answer = struct.pack("!HHHIH", 0xC00C, qtype, 1, 300, len(rdata)) + rdata
        resp = struct.pack("!HHHHHH", txid, 0x8180, 1, 1, 0, 1) + question + answer + \
            bytes.fromhex("0000291000000000000000")
        yield udp(s2c, 53, cport, resp)

    def quic_flow(self):
        rng, pool = self.rng, self.pool
        self.counts["quic"] += 1
        c2s, s2c, cport = self.endpoints(443)
        yield udp(c2s, cport, 443, self.quic_client)
        for p in self.quic_server:
            yield udp(s2c, 443, cport, p)
        dcid = rng.getrandbits(64).to_bytes(8, "big")
        for _ in range(rng.randrange(20, 201)):
            up = rng.random() < 0.2
            size = rng.randrange(30, 120) if up else rng.randrange(200, 1350)
            payload, psum = pool.take(rng, size)
            pkt = bytes([0x40 | (payload[0] & 0x07)]) + dcid + payload[9:]
            if up:
                yield udp(c2s, cport, 443, pkt)
            else:
                yield udp(s2c, 443, cport, pkt)

    def new_flow(self):
        r = self.rng.random()
        if r < 0.40:
            return self.dns_flow()
        if r < 0.77:
            return self.tls_flow()
        if r < 0.89:
            return self.http_flow()
        return self.quic_flow()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--packets", type=int, default=1_050_000, help="minimum packet count")
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--concurrent", type=int, default=256, help="flows open at once")
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench-data", "scan_bench.pcap"))
    args = ap.parse_args()

    started = time.monotonic()
    gen = Generator(args.seed)
    rng = gen.rng
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".part"
    packets = flows = 0
    written = 24
    ts_us = 1_764_410_400 * 1_000_000  # 2025-11-29 10:00 UTC
    active = [gen.new_flow() for _ in range(args.concurrent)]
    flows = len(active)
    chunk = []
    pack_rec = struct.Struct("<IIII").pack
    with open(tmp, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        while active:
            i = rng.randrange(len(active))
            try:
                frame = next(active[i])
            except StopIteration:
                if packets < args.packets:
                    active[i] = gen.new_flow()
                    flows += 1
                else:
                    active[i] = active[-1]
                    active.pop()
                continue
            ts_us += 1 + int(rng.expovariate(1 / 20))
            n = len(frame)
            chunk.append(pack_rec(ts_us // 1_000_000, ts_us % 1_000_000, n, n))
            chunk.append(frame)
            written += 16 + n
            packets += 1
            if len(chunk) >= 65536:
                out.write(b"".join(chunk))
                chunk.clear()
        out.write(b"".join(chunk))
    os.replace(tmp, args.out)
    elapsed = time.monotonic() - started
    meta = {"packets": packets, "flows": flows, "bytes": written, "seed": args.seed,
            "duration_s": round(ts_us / 1e6 - 1_764_410_400, 3)}
    meta.update({f"flows_{k}": v for k, v in gen.counts.items()})
    with open(args.out + ".meta", "w", encoding="utf-8") as f:
        f.write("".join(f"{k}={v}\n" for k, v in meta.items()))
    print(f"{args.out}: {packets} packets, {flows} flows "
          f"(tls {gen.counts['tls']}, http {gen.counts['http']}, dns {gen.counts['dns']}, "
          f"quic {gen.counts['quic']}; {gen.counts['blocked_named']} with a blocked name), "
          f"{written / 1e6:.0f} MB, in {elapsed:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
