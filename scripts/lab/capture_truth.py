#!/usr/bin/env python3
"""Ground truth for a capture: one TSV row per name seen on the wire, read by tshark.

usage: capture_truth.py CAPTURE OUT.tsv

Same columns and field logic as the project's shared truth files (shared/data/truth/*.tsv,
made by extract_truth.py with TShark 4.0.17, Debian 12), so one reader serves both:

  frame  proto  src  sport  dst  dport  kind  name

kind:  dns           a name in the question section of a DNS query (QR=0)
       dns_response  a name in the question section of a DNS response (QR=1)
       sni           TLS ClientHello server_name over TCP
       quic_sni      server_name of the ClientHello in a QUIC Initial (tshark decrypts it)
                     or the SNI tag of a gQUIC CHLO
       http_host     HTTP/1.x Host header
Names are written as tshark prints them (case kept, no trailing dot); tab, CR and LF escaped.
"""
import json
import subprocess
import sys

FIELDS = ["frame.number", "frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
          "tls.handshake.extensions_server_name", "gquic.tag.sni", "dns.flags.response",
          "dns.qry.name", "http.host"]


def last(layers, key):
    values = layers.get(key)
    return values[-1] if values else ""


def clean(text):
    return text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def rows_of(capture):
    # DNS-over-QUIC ports: without these tshark 4.0 dissects UDP/853 as DTLS.
    cmd = ["tshark", "-n", "-r", capture, "-T", "json",
           "-d", "udp.port==853,quic", "-d", "udp.port==784,quic", "-d", "udp.port==8853,quic",
           "-Y", "tls.handshake.extensions_server_name || gquic.tag.sni || dns.qry.name || "
                 "http.host"]
    for field in FIELDS:
        cmd += ["-e", field]
    res = subprocess.run(cmd, capture_output=True, text=True, errors="replace", check=False)
    if res.returncode != 0:
        sys.exit(f"{capture}: tshark failed ({res.returncode}): {res.stderr.strip()}")
    packets = json.loads(res.stdout) if res.stdout.strip() else []
    for packet in packets:
        layers = packet.get("_source", {}).get("layers", {})
        protos = last(layers, "frame.protocols").split(":")
        frame = last(layers, "frame.number")
        ip_layers = [p for p in protos if p in ("ip", "ipv6")]
        if ip_layers and ip_layers[-1] == "ipv6":
            src, dst = last(layers, "ipv6.src"), last(layers, "ipv6.dst")
        else:
            src, dst = last(layers, "ip.src"), last(layers, "ip.dst")
        if layers.get("tcp.srcport"):
            proto, sport, dport = "tcp", last(layers, "tcp.srcport"), last(layers, "tcp.dstport")
        elif layers.get("udp.srcport"):
            proto, sport, dport = "udp", last(layers, "udp.srcport"), last(layers, "udp.dstport")
        else:
            proto, sport, dport = "-", "", ""

        def emit(kind, names):
            for name in names:
                yield (frame, proto, src, sport, dst, dport, kind, clean(name))

        sni = layers.get("tls.handshake.extensions_server_name", [])
        yield from emit("quic_sni" if "quic" in protos else "sni", sni)
        yield from emit("quic_sni", layers.get("gquic.tag.sni", []))
        qnames = layers.get("dns.qry.name", [])
        if qnames:
            response = layers.get("dns.flags.response", ["0"])
            is_response = bool(response) and response[0] in ("1", "True", "true")
            yield from emit("dns_response" if is_response else "dns", qnames)
        yield from emit("http_host", layers.get("http.host", []))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: capture_truth.py CAPTURE OUT.tsv")
    capture, out = sys.argv[1], sys.argv[2]
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("frame\tproto\tsrc\tsport\tdst\tdport\tkind\tname\n")
        for row in rows_of(capture):
            fh.write("\t".join(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
