#!/usr/bin/env python3
"""eval_graph.py -- how well fd-graph ranks the planted rings of scripts/amlsim_like.py.

  scripts/eval_graph.py TRUTH.csv CYCLES.csv FANS.csv RINGS.csv

Prints the issue-11 metrics: planted cycles within the top 20 cycle findings (a finding
counts when its accounts are the ring's); planted fan hubs (fan-in, fan-out centres) within
the top 50 fan findings; rings of any typology within the top 100 rings (a ring counts when a
finding holds at least half of its accounts and at least half of the finding's accounts are
the ring's).
"""
import csv
import sys
from collections import defaultdict


def acct(name):
    return name.split(":", 1)[1] if name.startswith("account:") else name


def main():
    truth, cyc, fan, ring = sys.argv[1:5]
    rings = defaultdict(set)
    typ = {}
    hub = {}
    for r in csv.DictReader(open(truth)):
        rings[r["ring_id"]].add(r["account"])
        typ[r["ring_id"]] = r["typology"]
        if r["typology"] == "fan-in" and r["role"] == "destination" or r["typology"] == "fan-out" and r["role"] == "source":
            hub[r["ring_id"]] = r["account"]
    # cycles: rank -> accounts
    cy = defaultdict(set)
    for r in csv.DictReader(open(cyc)):
        cy[int(r["cycle"])].add(acct(r["from"]))
    found = 0
    for rid, members in rings.items():
        if typ[rid] != "cycle":
            continue
        if any(cy[k] == members for k in range(1, 21)):
            found += 1
    ncyc = sum(1 for t in typ.values() if t == "cycle")
    print("cycles: %d/%d planted cycles in the top 20 cycle findings (of %d)" % (found, ncyc, len(cy)))
    centres = {}
    for r in csv.DictReader(open(fan)):
        k = int(r["pattern"])
        if k not in centres and r["kind"] in ("fan-in", "fan-out"):
            centres[k] = (r["kind"], acct(r["center"]))
    top = sorted(centres)
    topset = set(k for k in top if k <= 50)
    hits = 0
    for rid, h in hub.items():
        if any(centres[k] == (typ[rid], h) for k in topset):
            hits += 1
    print("fans: %d/%d planted fan hubs in the top 50 fan findings (of %d patterns)" % (hits, len(hub), max(centres) if centres else 0))
    rg = defaultdict(set)
    for r in csv.DictReader(open(ring)):
        rg[int(r["ring"])].add(acct(r["account"]))
    got = defaultdict(int)
    ok = 0
    for rid, members in rings.items():
        for k in range(1, 101):
            inter = len(rg[k] & members)
            if inter * 2 >= len(members) and inter * 2 >= len(rg[k]):
                ok += 1
                got[typ[rid]] += 1
                break
    print("rings: %d/%d planted rings in the top 100 rings (%s)" % (ok, len(rings), ", ".join("%s %d" % kv for kv in sorted(got.items()))))


if __name__ == "__main__":
    main()
