#!/usr/bin/env python3
"""amlsim_like.py -- a seeded money-laundering network simulator for tuning and testing fd-graph.

This is OUR approximation of the typologies of IBM's AMLSim (Altman et al., "Scalable
Synthetic Data Generation for Anti-Money Laundering"): written from its published typology
descriptions, not from its code, and deliberately different from any held-out data set.

Background (the ordinary flows the rings hide in):
  * --accounts accounts with heavy-tailed (Pareto) activity: each has a few to a few hundred
    regular counterparties chosen by preferential attachment;
  * recurring payments (rent, instalments: the same, often round, amount every month);
  * one-off payments with log-normal amounts, one in four rounded to 10 or 100;
  * ordinary cycles: loans repaid in full (A -> B, later B -> A, the same amount) and friends
    settling up in small triangles with unrelated amounts;
  * two "outside world" accounts: INCOME pays a salary to nearly every account each month and
    SPEND receives card spending from nearly every account (about --accounts counterparties
    each).

Planted rings, 10 of each typology (--rings-per-type), members drawn from the ordinary accounts
(so they keep their ordinary activity), each ring's transfers spread over 1 to 9 weeks, the base
amount between 1,000 and 20,000, a margin (what each hop keeps) of 1 % to 10 %:
  cycle           a1 -> a2 -> ... -> ak -> a1, k = 3..10, in time order, each hop the previous
                  amount less the margin
  fan-in          5..15 senders -> one account
  fan-out         one account -> 5..15 recipients
  bipartite       2..5 senders each pay each of 2..5 recipients (all to all)
  stack           n senders -> n intermediates (all to all) -> m recipients (all to all),
                  the second layer passing the whole flow on
  scatter-gather  source -> 4..12 intermediates -> one destination (first half of the period
                  scatter, second half gather, less the margin)
  gather-scatter  4..12 senders -> one account -> 4..12 recipients (the total less the margin
                  split evenly)
Fan legs use either one amount for every leg or amounts drawn between half and all of the
base (half the rings each), so that similar amounts are evidence but not a give-away.

Outputs: the transactions as CSV in fd's canonical layout (txn_id, ts, amount, currency,
sender_id, recipient_id; no label column: the rings are not flagged), and the ground truth
as CSV (ring_id, typology, account, role, txn_ids of the ring's transfers joined by '|').

  scripts/amlsim_like.py --seed 1 -o tx.csv --truth truth.csv
"""
import argparse
import bisect
import csv
import datetime
import math
import random
import sys

TYPES = ["cycle", "fan-in", "fan-out", "bipartite", "stack", "scatter-gather", "gather-scatter"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--accounts", type=int, default=10000)
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--transfers", type=int, default=668650, help="approximate total transfers")
    ap.add_argument("--rings-per-type", type=int, default=10)
    ap.add_argument("--start", default="2026-01-01")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--truth", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    t0 = datetime.datetime.fromisoformat(a.start).replace(tzinfo=datetime.timezone.utc)
    day_ms = 86400000
    span = a.days * day_ms
    n = a.accounts
    names = ["A%06d" % i for i in range(n)]
    tx = []  # (ts_ms, amount_cents, sender, recipient, tag)

    def when(lo=0, hi=span):
        return rng.randrange(lo, max(lo + 1, hi))

    def add(ts, cents, s, r, tag=None):
        if s != r and cents > 0:
            tx.append((ts, cents, s, r, tag))

    def lognorm(mu, sigma):
        return math.exp(rng.gauss(mu, sigma))

    def cents(x, rounding=True):
        if rounding and rng.random() < 0.25:
            step = 100 if x >= 500 else 10
            return max(1, int(round(x / step))) * step * 100
        return max(1, int(round(x * 100)))

    # -- outside world: a salary a month to nearly everyone, card spending from nearly everyone
    for i in range(n):
        if rng.random() < 0.97:
            pay = cents(lognorm(math.log(2500), 0.5), rounding=False)
            day = rng.randrange(25, 29)
            for m in range(0, a.days, 30):
                add((m + day) % a.days * day_ms + when(0, day_ms // 3), pay, "INCOME", names[i])
    budget_bg = a.transfers - len(tx)
    spend_share = budget_bg // 6
    for _ in range(spend_share):
        add(when(), cents(lognorm(math.log(60), 1.0)), names[rng.randrange(n)], "SPEND")

    # -- heavy-tailed ordinary accounts: activity weight and a set of regular counterparties
    weight = [rng.paretovariate(1.3) for _ in range(n)]
    cum = []
    acc = 0.0
    for w in weight:
        acc += w
        cum.append(acc)

    def pick():
        return bisect.bisect_left(cum, rng.random() * acc)

    contacts = []
    for i in range(n):
        k = min(300, max(2, int(3 * weight[i] + rng.randrange(0, 4))))
        contacts.append([pick() for _ in range(k)])

    # recurring payments: the same amount every month, often round (rent, instalments)
    for i in range(n):
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            j = rng.choice(contacts[i])
            amt = rng.choice([cents(lognorm(math.log(600), 0.8)), rng.choice([250, 500, 750, 1000, 1200, 1500]) * 100])
            day = rng.randrange(0, 30)
            for m in range(0, a.days - day, 30):
                add((m + day) * day_ms + when(0, day_ms), amt, names[i], names[j])
    # loans repaid in full, and friends settling up in triangles (ordinary cycles)
    for _ in range(n // 4):
        i = rng.randrange(n)
        j = rng.choice(contacts[i])
        amt = cents(lognorm(math.log(400), 1.0))
        t = when(0, span - 20 * day_ms)
        add(t, amt, names[i], names[j])
        add(t + rng.randrange(day_ms, 20 * day_ms), amt, names[j], names[i])
    for _ in range(n // 4):
        i = rng.randrange(n)
        j = rng.choice(contacts[i])
        k = rng.choice(contacts[j])
        t = when(0, span - 10 * day_ms)
        add(t, cents(lognorm(math.log(80), 0.8)), names[i], names[j])
        add(t + rng.randrange(1, 5 * day_ms), cents(lognorm(math.log(80), 0.8)), names[j], names[k])
        add(t + rng.randrange(5 * day_ms, 10 * day_ms), cents(lognorm(math.log(80), 0.8)), names[k], names[i])
    # one-off payments, weighted by activity, mostly to regular counterparties
    remaining = a.transfers - len(tx) - 7 * a.rings_per_type * 25
    for _ in range(max(0, remaining)):
        i = pick()
        j = rng.choice(contacts[i]) if rng.random() < 0.8 else pick()
        add(when(), cents(lognorm(math.log(150), 1.2)), names[i], names[j])

    # -- planted rings
    used = set()

    def members(k):
        out = []
        while len(out) < k:
            i = rng.randrange(n)
            if i not in used:
                used.add(i)
                out.append(names[i])
        return out

    truth = []  # ring_id, type, account, role, tags
    rid = 0
    for typ in TYPES:
        for _ in range(a.rings_per_type):
            rid += 1
            tag = "R%03d" % rid
            dur = rng.randrange(7, 64) * day_ms
            start = when(0, span - dur)
            end = start + dur
            base = rng.uniform(1000, 20000)
            margin = rng.uniform(0.01, 0.10)
            same = rng.random() < 0.5
            roles = {}

            def leg():
                return base if same else rng.uniform(0.5, 1.0) * base

            def times(k, lo=start, hi=end):
                return sorted(rng.randrange(lo, hi) for _ in range(k))

            if typ == "cycle":
                m = members(rng.randrange(3, 11))
                amt = base
                for i, t in enumerate(times(len(m))):
                    add(t, cents(amt, False), m[i], m[(i + 1) % len(m)], tag)
                    amt *= 1 - margin
                roles = {x: "mule" for x in m}
                roles[m[0]] = "source"
            elif typ in ("fan-in", "fan-out"):
                m = members(1 + rng.randrange(5, 16))
                hub, others = m[0], m[1:]
                for o, t in zip(others, times(len(others))):
                    if typ == "fan-in":
                        add(t, cents(leg(), False), o, hub, tag)
                    else:
                        add(t, cents(leg(), False), hub, o, tag)
                roles = {o: "source" if typ == "fan-in" else "destination" for o in others}
                roles[hub] = "destination" if typ == "fan-in" else "source"
            elif typ == "bipartite":
                s = members(rng.randrange(2, 6))
                r = members(rng.randrange(2, 6))
                amt = leg()
                for x in s:
                    ts = times(len(r))
                    for y, t in zip(r, ts):
                        add(t, cents(amt, False), x, y, tag)
                roles = {x: "source" for x in s}
                roles.update({y: "destination" for y in r})
            elif typ == "stack":
                k = rng.randrange(2, 5)
                s, mid, d = members(k), members(k), members(rng.randrange(2, 5))
                a1 = leg()
                a2 = a1 * len(s) * (1 - margin) / len(d)
                half = start + dur // 2
                for x in s:
                    for y, t in zip(mid, times(len(mid), start, half)):
                        add(t, cents(a1, False), x, y, tag)
                for y in mid:
                    for z, t in zip(d, times(len(d), half, end)):
                        add(t, cents(a2, False), y, z, tag)
                roles = {x: "source" for x in s}
                roles.update({y: "mule" for y in mid})
                roles.update({z: "destination" for z in d})
            elif typ == "scatter-gather":
                m = members(2 + rng.randrange(4, 13))
                src, dst, mid = m[0], m[1], m[2:]
                half = start + dur // 2
                amt = leg()
                for y in mid:
                    t1 = rng.randrange(start, half)
                    add(t1, cents(amt, False), src, y, tag)
                    add(rng.randrange(half, end), cents(amt * (1 - margin), False), y, dst, tag)
                roles = {y: "mule" for y in mid}
                roles[src] = "source"
                roles[dst] = "destination"
            else:  # gather-scatter
                m = members(1 + 2 * rng.randrange(4, 13))
                hub = m[0]
                k = (len(m) - 1) // 2
                srcs, dsts = m[1:1 + k], m[1 + k:]
                half = start + dur // 2
                total = 0.0
                for x, t in zip(srcs, times(len(srcs), start, half)):
                    v = rng.uniform(0.5, 1.0) * base
                    total += v
                    add(t, cents(v, False), x, hub, tag)
                out = total * (1 - margin) / len(dsts)
                for z, t in zip(dsts, times(len(dsts), half, end)):
                    add(t, cents(out, False), hub, z, tag)
                roles = {x: "source" for x in srcs}
                roles.update({z: "destination" for z in dsts})
                roles[hub] = "mule"
            for acct, role in sorted(roles.items()):
                truth.append([tag, typ, acct, role])

    tx.sort(key=lambda r: (r[0], r[2], r[3], r[1]))
    ring_tx = {}
    with open(a.output, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["txn_id", "ts", "amount", "currency", "sender_id", "recipient_id"])
        for k, (ts, c, s, r, tag) in enumerate(tx):
            tid = "T%07d" % (k + 1)
            when_ = (t0 + datetime.timedelta(milliseconds=ts)).strftime("%Y-%m-%dT%H:%M:%SZ")
            w.writerow([tid, when_, "%d.%02d" % (c // 100, c % 100), "USD", s, r])
            if tag:
                ring_tx.setdefault(tag, []).append(tid)
    with open(a.truth, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["ring_id", "typology", "account", "role", "txn_ids"])
        for tag, typ, acct, role in truth:
            w.writerow([tag, typ, acct, role, "|".join(ring_tx.get(tag, []))])
    print("amlsim_like: %d transfers, %d rings, %d ring accounts" % (len(tx), rid, len(truth)), file=sys.stderr)


if __name__ == "__main__":
    main()
