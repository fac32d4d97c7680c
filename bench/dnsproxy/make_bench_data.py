#!/usr/bin/env python3
"""Builds the inputs of the DNS proxy benchmarks (bench/dnsproxy/), deterministically.

  make_bench_data.py --list LIST --out DIR [--total 1000000] [--queries 200000] [--seed 4]

Writes into DIR:
  list_real.txt       the real list, as given (one name per line; rules cover subdomains)
  list_1m.txt         the real list plus synthetic names up to --total lines
  queries_real.txt    dnsperf input for list_real.txt
  queries_1m.txt      dnsperf input for list_1m.txt
  allowed.txt         the allowed names of the mix (none matches either list)

Query mix (each file, --queries lines, shuffled): 10 % blocked names, half of them listed names
as they are and half subdomains of listed names (one or two extra labels); 90 % allowed names
(random host labels under 5000 synthetic second-level domains in common TLDs), checked against
every suffix of both lists. Types: 80 % A, 20 % AAAA. Same seed -> same bytes.
Python 3 standard library only.
"""
import argparse
import os
import random
import string

TLDS = ["com", "net", "org", "no", "se", "de", "uk", "io", "gov", "eu"]
SYNTH_TLDS = ["com", "net", "org", "info", "xyz", "top", "site", "online", "ru", "cn"]
WORDS = ["www", "api", "cdn", "img", "static", "m", "login", "mail", "app", "edge", "v1", "media"]


def label(rng, lo, hi):
    n = rng.randint(lo, hi)
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def suffixes(name):
    parts = name.split(".")
    for i in range(len(parts)):
        yield ".".join(parts[i:])


def blocked_by(name, listed):
    return any(s in listed for s in suffixes(name))


def make_queries(rng, listed_names, allowed, count):
    out = []
    n_blocked = count // 10
    for i in range(n_blocked):
        base = rng.choice(listed_names)
        if i % 2 == 0:
            name = base
        else:
            extra = rng.choice(WORDS)
            if rng.random() < 0.3:
                extra = label(rng, 3, 8) + "." + extra
            name = extra + "." + base
        out.append(name)
    for _ in range(count - n_blocked):
        out.append(rng.choice(allowed))
    rng.shuffle(out)
    return ["%s %s" % (name, "AAAA" if rng.random() < 0.2 else "A") for name in out]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--total", type=int, default=1000000)
    ap.add_argument("--queries", type=int, default=200000)
    ap.add_argument("--seed", type=int, default=4)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)

    with open(a.list) as f:
        real = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    real_set = set(real)
    synthetic = []
    synth_set = set()
    while len(real) + len(synthetic) < a.total:
        depth = rng.random()
        name = label(rng, 5, 14) + "." + rng.choice(SYNTH_TLDS)
        if depth < 0.4:
            name = label(rng, 2, 8) + "." + name
        if depth < 0.1:
            name = rng.choice(WORDS) + "." + name
        if name in real_set or name in synth_set:
            continue
        synth_set.add(name)
        synthetic.append(name)
    all_set = real_set | synth_set

    slds = []
    while len(slds) < 5000:
        sld = "eg" + label(rng, 4, 10) + "." + rng.choice(TLDS)
        if not blocked_by(sld, all_set):
            slds.append(sld)
    allowed = []
    while len(allowed) < 20000:
        name = rng.choice(WORDS) + "." + rng.choice(slds)
        if rng.random() < 0.5:
            name = label(rng, 3, 10) + "." + name
        if not blocked_by(name, all_set):
            allowed.append(name)

    def write(path, lines):
        with open(os.path.join(a.out, path), "w") as f:
            f.write("\n".join(lines) + "\n")

    write("list_real.txt", real)
    write("list_1m.txt", real + synthetic)
    write("allowed.txt", allowed)
    write("queries_real.txt", make_queries(rng, real, allowed, a.queries))
    write("queries_1m.txt", make_queries(rng, real + synthetic, allowed, a.queries))


if __name__ == "__main__":
    main()
