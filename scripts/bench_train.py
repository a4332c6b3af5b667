#!/usr/bin/python3
"""bench_train.py FEATURES_CSV -- the reference of `make bench`'s fd-train section
(scripts/bench_train.sh): scikit-learn's HistGradientBoostingClassifier on the rows fd-train
learns from, split as fd-train splits them (the last 20% in time validate), with the trees
fd-train grows (depth 4, learning rate 0.1, at most 400 rounds, 30 without improvement stop
it).  Prints one line: seconds to read the CSV, seconds and CPU seconds to fit, rounds run,
and the average precision on the later 20%.  scikit-learn is a reference here, never a
dependency of fd.
"""
import io
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench_train.py FEATURES_CSV")
    t0 = time.time()
    with open(sys.argv[1]) as f:
        header = f.readline().rstrip("\n").split(",")
        body = f.read()
    if header[:3] != ["txn_id", "ts", "label"]:
        sys.exit("bench_train.py: expected fd-features' columns txn_id,ts,label,...")
    ts = np.array([line.split(",", 2)[1] for line in body.splitlines()])
    # empty fields (missing values) as nan, so that numpy's C reader takes every row
    while ",," in body:
        body = body.replace(",,", ",nan,")
    body = body.replace(",\n", ",nan\n")
    data = np.loadtxt(io.StringIO(body), delimiter=",", usecols=range(2, len(header)), dtype=np.float32,
                      ndmin=2)
    y, X = data[:, 0], data[:, 1:]
    t_read = time.time() - t0
    # fd-train's split: every row at or after the time that leaves the last 20% after it
    order = np.sort(ts)
    cut = order[int(0.8 * len(order))]
    val = ts >= cut
    known = ~np.isnan(y)
    tr, va = known & ~val, known & val
    clf = HistGradientBoostingClassifier(max_depth=4, learning_rate=0.1, max_iter=400,
                                         early_stopping=True, validation_fraction=0.2,
                                         n_iter_no_change=30, random_state=1)
    c0, t0 = time.process_time(), time.time()
    clf.fit(X[tr], y[tr])
    fit, cpu = time.time() - t0, time.process_time() - c0
    ap = average_precision_score(y[va], clf.predict_proba(X[va])[:, 1])
    print("%.2f s to read %d rows; fit %.2f s wall, cpu %.2f s, %d rounds, %d training rows; "
          "average precision on the later 20%%: %.4f" % (t_read, len(y), fit, cpu, clf.n_iter_, tr.sum(), ap))


if __name__ == "__main__":
    main()
