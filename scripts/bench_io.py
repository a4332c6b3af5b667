#!/usr/bin/python3
"""pandas reference for make bench (issue 14): CSV in, per-sender time-window features, CSV out.

The same work as `fd-features --features` with the columns below: for each transaction, the
sender's transactions and amount sums over the 10 minutes, 1 hour, 24 hours, 7 and 30 days
up to and including it, and the seconds since the sender's previous transaction.
"""
import sys

import pandas as pd

WINDOWS = [("10m", "10min"), ("1h", "1h"), ("24h", "24h"), ("7d", "7D"), ("30d", "30D")]
FD_FEATURES = ",".join(
    ["secs_since_last"]
    + ["sender_txn_count_" + w for w, _ in WINDOWS]
    + ["sender_amount_sum_" + w for w, _ in WINDOWS])


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--fd-features":
        print(FD_FEATURES)
        return
    src, dst = sys.argv[1], sys.argv[2]
    df = pd.read_csv(src, usecols=["txn_id", "ts", "amount", "sender_id"],
                     dtype={"txn_id": str, "sender_id": str, "amount": float})
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    df["row"] = range(len(df))
    df = df.sort_values(["sender_id", "ts", "row"], kind="stable")
    out = pd.DataFrame({"txn_id": df["txn_id"].values, "row": df["row"].values})
    g = df.groupby("sender_id", sort=False)
    out["secs_since_last"] = g["ts"].diff().dt.total_seconds().values
    idx = df.set_index("ts")
    gi = idx.groupby("sender_id", sort=False)["amount"]
    for name, win in WINDOWS:
        r = gi.rolling(win)
        out["sender_txn_count_" + name] = r.count().values
        out["sender_amount_sum_" + name] = r.sum().values
    out = out.sort_values("row").drop(columns="row")
    out.to_csv(dst, index=False, float_format="%.9g")


if __name__ == "__main__":
    main()
