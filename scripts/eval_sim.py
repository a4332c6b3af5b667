#!/usr/bin/python3
"""eval_sim.py -- card transactions shaped like the "Reproducible Machine Learning for Credit
Card Fraud Detection" handbook's simulator (Le Borgne et al., chapter "Transaction data
simulator"), for `make eval`.

OUR OWN REIMPLEMENTATION, written from the handbook's published description of the design; no
code of the handbook is used, and its output is not the handbook's data set (nor the held-out
data the project is measured on).  The design, as described there:

  * customers at uniform random places of a 100 x 100 grid, each with a mean amount uniform in
    [5, 100] (standard deviation half of it) and a mean number of transactions a day uniform
    in [0, 4];
  * terminals at uniform random places; a customer uses the terminals within radius 5 of it;
  * each day, each customer makes Poisson(mean) transactions, at a time of day drawn from a
    normal distribution around noon (standard deviation 20,000 s; times outside the day are
    dropped), at one of its terminals chosen uniformly, of a normal amount (a negative draw
    is replaced by a uniform one in [0, 2 x mean]);
  * fraud: (1) every amount above 220 is fraud; (2) each day two terminals are compromised:
    every transaction on them in the next 28 days is fraud; (3) each day three customers are
    compromised: in the next 14 days a third of their transactions have their amount
    multiplied by 5 and are fraud.

Writes CSV with fd's canonical columns (txn_id, ts, amount, sender_id, merchant_id, channel,
label) in time order to standard output.  The same options and seed give the same bytes.
"""
import argparse
import datetime
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--terminals", type=int, default=10000)
    ap.add_argument("--days", type=int, default=63)
    ap.add_argument("--start", default="2018-04-01")
    ap.add_argument("--radius", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.customers < 1 or a.terminals < 1 or a.days < 1 or a.radius <= 0:
        print("eval_sim: --customers, --terminals, --days and --radius must be positive", file=sys.stderr)
        return 2
    try:
        start = datetime.datetime.strptime(a.start, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        print(f"eval_sim: bad --start '{a.start}' (YYYY-MM-DD)", file=sys.stderr)
        return 2
    t0 = int(start.timestamp())
    rng = np.random.default_rng(a.seed)

    cxy = rng.uniform(0, 100, size=(a.customers, 2))
    cmean = rng.uniform(5, 100, size=a.customers)
    csd = cmean / 2
    crate = rng.uniform(0, 4, size=a.customers)
    txy = rng.uniform(0, 100, size=(a.terminals, 2))
    # terminals within the radius, per customer (in blocks: a full distance matrix of 5,000 x
    # 10,000 doubles is 400 MB)
    near = []
    for b in range(0, a.customers, 500):
        d2 = ((cxy[b:b + 500, None, :] - txy[None, :, :]) ** 2).sum(axis=2)
        near.extend(np.nonzero(row <= a.radius ** 2)[0] for row in d2)

    # the transactions, day by day
    secs, cust, term, amt = [], [], [], []
    for day in range(a.days):
        n = rng.poisson(crate)
        for c in np.nonzero(n)[0]:
            if len(near[c]) == 0:
                continue
            k = n[c]
            t = np.rint(rng.normal(86400 / 2, 20000, size=k)).astype(np.int64)
            x = rng.normal(cmean[c], csd[c], size=k)
            neg = x < 0
            x[neg] = rng.uniform(0, 2 * cmean[c], size=neg.sum())
            tm = rng.choice(near[c], size=k)
            ok = (t >= 0) & (t < 86400)
            secs.append(day * 86400 + t[ok])
            cust.append(np.full(ok.sum(), c))
            term.append(tm[ok])
            amt.append(np.round(x[ok], 2))
    secs = np.concatenate(secs)
    cust = np.concatenate(cust)
    term = np.concatenate(term)
    amt = np.concatenate(amt)
    order = np.lexsort((cust, secs))
    secs, cust, term, amt = secs[order], cust[order], term[order], amt[order]
    day = secs // 86400
    fraud = np.zeros(len(secs), dtype=np.int64)

    # (1) large amounts
    fraud[amt > 220] = 1
    # (2) compromised terminals: two a day, every transaction of the next 28 days
    for d in range(a.days):
        for tm in rng.choice(a.terminals, size=2, replace=False):
            fraud[(term == tm) & (day >= d) & (day < d + 28)] = 1
    # (3) compromised customers: three a day, a third of the next 14 days' transactions x5
    for d in range(a.days):
        for c in rng.choice(a.customers, size=3, replace=False):
            idx = np.nonzero((cust == c) & (day >= d) & (day < d + 14))[0]
            if len(idx) == 0:
                continue
            pick = rng.choice(idx, size=len(idx) // 3, replace=False)
            amt[pick] = np.round(amt[pick] * 5, 2)
            fraud[pick] = 1

    out = sys.stdout
    out.write("txn_id,ts,amount,sender_id,merchant_id,channel,label\n")
    for i in range(len(secs)):
        out.write(f"s{i},{t0 + int(secs[i])},{amt[i]:.2f},c{cust[i]},t{term[i]},card,{fraud[i]}\n")
    print(f"eval_sim: {len(secs)} transactions, {int(fraud.sum())} fraud ({fraud.mean():.2%})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
