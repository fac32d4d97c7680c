#!/usr/bin/env python3
"""Writes a deterministic file of realistic egressguard events (docs/events.md) for
bench/logs/logs_bench.sh: about --size-mb megabytes of JSON lines (some 2.2 M events per GB,
about 5 days), from one sensor with a datapath mix (dnsproxy, nfqueue, pcap), four device
groups, a Zipf-like choice of names (TikTok and other catalogue names among popular ones), DNS
objects for dnsproxy events, aggregated events with "count", and a few names with escaped
bytes. Same seed, same bytes."""
import argparse
import datetime
import random
import sys

GROUPS = [("gov-managed", 0.45, "10.8."), ("byod", 0.30, "10.9."), ("guest", 0.20, "10.10."),
          ("kiosk", 0.05, "10.11.")]
BLOCKED = [("www.tiktok.com", "tiktok", "*.tiktok.com", "domains/catalogue/tiktok.txt", 26),
           ("api16-normal-c-useast1a.tiktokv.com", "tiktok", "*.tiktokv.com",
            "domains/catalogue/tiktok.txt", 31),
           ("v16-webapp.tiktok.com", "tiktok", "*.tiktok.com", "domains/catalogue/tiktok.txt", 26),
           ("mon.tiktokv.com", "tiktok", "*.tiktokv.com", "domains/catalogue/tiktok.txt", 31),
           ("p16-sign-va.tiktokcdn.com", "tiktok", "*.tiktokcdn.com",
            "domains/catalogue/tiktok.txt", 29),
           ("lf16-tiktok-web.ttwstatic.com", "tiktok", "*.ttwstatic.com",
            "domains/catalogue/tiktok.txt", 44),
           ("www.capcut.com", "tiktok", "*.capcut.com", "domains/catalogue/tiktok.txt", 58),
           ("open.feishu.cn", "bytedance", "*.feishu.cn", "domains/catalogue/bytedance.txt", 12),
           ("www.doubao.com", "bytedance", "*.doubao.com", "domains/catalogue/bytedance.txt", 20),
           ("weixin.qq.com", "wechat", "*.qq.com", "domains/catalogue/wechat.txt", 9)]
ALLOWED = ["www.google.com", "outlook.office365.com", "login.microsoftonline.com",
           "www.gov.example", "teams.microsoft.com", "graph.microsoft.com", "www.bbc.co.uk",
           "github.com", "api.github.com", "update.googleapis.com", "www.wikipedia.org",
           "cdn.jsdelivr.net", "fonts.gstatic.com", "www.youtube.com", "i.ytimg.com",
           "slack.com", "zoom.us", "www.linkedin.com", "newsroom.tiktok.com", "nottiktok.com"]
APP = [("tls", "TCP", 443), ("quic", "UDP", 443), ("http", "TCP", 80)]
QTYPES = [(1, "A"), (28, "AAAA"), (65, "HTTPS")]
FLAGS = [[], [], [], [], ["split"], ["ech"], ["retransmit"], ["split", "out_of_order"]]


def zipf_index(rng, n):
    # P(i) ~ 1/(i+1): popular names dominate, as at a real gateway.
    x = rng.random() * H[n]
    acc = 0.0
    for i in range(n):
        acc += 1.0 / (i + 1)
        if x <= acc:
            return i
    return n - 1


START_US = 1795910400 * 1_000_000  # 2026-11-29T00:00:00Z


def day_text(days, cache={}):
    if days not in cache:
        cache[days] = (datetime.date(2026, 11, 29) + datetime.timedelta(days=days)).isoformat()
    return cache[days]


H = {}
for _n in (len(BLOCKED), len(ALLOWED)):
    H[_n] = sum(1.0 / (i + 1) for i in range(_n))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=20261129)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    target = args.size_mb * 1_000_000
    t_us = START_US
    step_us = 180_000  # ~ 3.3 M events over 7 days
    written = 0
    flow = 0
    lines = 0
    out = open(args.out, "w", encoding="ascii", newline="\n")
    buf = []
    group_weights = [g[1] for g in GROUPS]
    while written < target:
        t_us += rng.randint(1, 2 * step_us)
        flow += 1
        group, _, net = rng.choices(GROUPS, group_weights)[0]
        src = f"{net}{rng.randint(0, 15)}.{rng.randint(2, 254)}"
        sec, us = divmod(t_us - START_US, 1_000_000)
        days, rest = divmod(sec, 86400)
        ts = f"{day_text(days)}T{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}.{us:06d}Z"
        datapath = rng.choices(["dnsproxy", "nfqueue", "pcap"], [0.55, 0.40, 0.05])[0]
        r = rng.random()
        blocked = group in ("gov-managed", "kiosk") and r < 0.30
        unnamed = not blocked and datapath != "dnsproxy" and r > 0.97
        fields = [f'"timestamp":"{ts}"']
        etype = "block" if blocked else ("unnamed_flow" if unnamed else "name")
        fields.append(f'"event_type":"{etype}","sensor":"gw-bench-01","datapath":"{datapath}"')
        if datapath == "dnsproxy":
            app, proto, port = "dns", "UDP", 53
            dest = "10.0.0.53"
        else:
            app, proto, port = APP[rng.choices([0, 1, 2], [0.7, 0.25, 0.05])[0]]
            dest = f"203.0.113.{rng.randint(1, 254)}"
        fields.append(f'"flow_id":{flow},"src_ip":"{src}","src_port":{rng.randint(1024, 65535)},'
                      f'"dest_ip":"{dest}","dest_port":{port},"proto":"{proto}",'
                      f'"app_proto":"{app}","group":"{group}"')
        if blocked:
            name, cat, rule, lst, line = BLOCKED[zipf_index(rng, len(BLOCKED))]
            if rng.random() < 0.02:
                name = name.upper()
        elif unnamed:
            name = None
        else:
            name = ALLOWED[zipf_index(rng, len(ALLOWED))]
            if rng.random() < 0.001:
                name = "x\\u00ff\\u001b[2J.example.com"  # odd bytes, escaped
        fields.append('"name":null' if name is None else f'"name":"{name}"')
        if app == "dns":
            qt, qn = rng.choice(QTYPES)
            fields.append(f'"dns":{{"qtype":{qt},"qtype_name":"{qn}"}}')
        elif app == "tls" and name is not None:
            fields.append('"alpn":"h2,http/1.1"')
        action = "block" if blocked else "allow"
        reason = "rule" if blocked else ("no_name" if unnamed else "no_rule")
        fields.append(f'"action":"{action}","mode":"enforce","reason":"{reason}"')
        if blocked:
            fields.append(f'"category":"{cat}","rule":"{rule}","list":"{lst}","line":{line},'
                          f'"exception":false,"jurisdiction":"CN"')
        else:
            fields.append('"category":null,"rule":null,"list":null,"line":null')
        flags = rng.choice(FLAGS) if app in ("tls", "quic") else []
        fields.append('"policy_version":3,"flags":[' + ",".join(f'"{f}"' for f in flags) + "]")
        if blocked and app == "dns":
            fields.append('"dns_answer":"nxdomain","ede":15,"block_cause":"list"')
        if rng.random() < 0.03:
            fields.append(f'"count":{rng.randint(2, 12)}')  # an aggregated repeat
        text = "{" + ",".join(fields) + "}\n"
        buf.append(text)
        written += len(text)
        lines += 1
        if len(buf) >= 10000:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))
    out.close()
    print(f"lines={lines}", file=sys.stderr)


if __name__ == "__main__":
    main()
