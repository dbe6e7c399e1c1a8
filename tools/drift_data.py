#!/usr/bin/env python3
"""Synthetic transactions for drift tests, as JSON lines on stdout.

The demo schema of compose/pipeline.toml (and examples/transactions.jsonl):

    {"id":1,"amount":46.26,"hour":23,"country":"FR","is_new_customer":false}

- id: K, K+1, … (--first-id K, default 1);
- amount: normal, mean 52, standard deviation 30 (the demo model's standardize feature), written
  with 2 decimals; it can be negative (about 4% of records), so that a mean shift of x standard
  deviations is exactly that (no clipping that would change the mean);
- hour: uniform on 0..23 (as tools/make_test_models.py demo_records);
- country: US 0.50, DE 0.25, FR 0.15, GB 0.07, and rarer others (IT 0.012, ES 0.008, NL 0.005,
  PL 0.003, SE 0.002: 0.03 in all); the demo model one-hot encodes US/DE/FR/GB, others are zeros;
- is_new_customer: true with probability 0.3 (as demo_records).

Drift, applied from record number R on (--start R, 1-based position in this output, i.e. the
input line number when the output is fed to the pipeline as it is; default 1):
- --shift-mean FIELD:SDS  adds SDS standard deviations of FIELD to its mean: amount (sd 30);
  hour (sd of the uniform 0..23, sqrt(575/12) = 6.922; rounded to an integer and clipped to
  0..23, so its actual shift is smaller near the ends);
- --move-share FIELD:FROM:TO:POINTS  moves POINTS percentage points of share from category FROM
  to category TO (country, e.g. country:US:DE:10 makes US 0.40 and DE 0.35; is_new_customer with
  false/true). TO may be a category that does not occur otherwise (country:US:XX:5).
- --missing FIELD:RATE  leaves FIELD out of that share of records (0 <= RATE <= 1). Only
  country is optional in compose/pipeline.toml: the others would be rejected by ingest.
Each option may be given several times (shifts of one field add up).

Deterministic for a given --seed: every random draw is made for all records in the same order
whatever the options, so records before --start are byte-identical to an undrifted run with the
same seed, and after it only the shifted field changes (a category move changes only the
records that move: the same uniform draw is compared with moved thresholds).

    python3 tools/drift_data.py --records 100000 --seed 1 > reference.jsonl
    python3 tools/drift_data.py --records 50000 --seed 2 --shift-mean amount:0.5 --start 20001 > drifted.jsonl
"""
import argparse
import json
import sys

import numpy as np

AMOUNT_MEAN, AMOUNT_SD = 52.0, 30.0
HOUR_SD = float(np.sqrt((24 ** 2 - 1) / 12.0))
COUNTRY_SHARES = [("US", 0.50), ("DE", 0.25), ("FR", 0.15), ("GB", 0.07),
                  ("IT", 0.012), ("ES", 0.008), ("NL", 0.005), ("PL", 0.003), ("SE", 0.002)]
NEW_CUSTOMER_SHARE = 0.3
FIELDS = ["id", "amount", "hour", "country", "is_new_customer"]


class UsageError(Exception):
    pass


def parse_shift(text):
    field, sep, sds = text.partition(":")
    if not sep or field not in ("amount", "hour"):
        raise UsageError("--shift-mean %s: expected FIELD:SDS with FIELD amount or hour" % text)
    try:
        return field, float(sds)
    except ValueError:
        raise UsageError("--shift-mean %s: SDS must be a number" % text) from None


def parse_move(text):
    parts = text.split(":")
    if len(parts) != 4 or parts[0] not in ("country", "is_new_customer"):
        raise UsageError("--move-share %s: expected FIELD:FROM:TO:POINTS with FIELD country or is_new_customer"
                         % text)
    field, src, dst, points = parts
    try:
        points = float(points)
    except ValueError:
        raise UsageError("--move-share %s: POINTS must be a number" % text) from None
    if field == "is_new_customer" and (src not in ("false", "true") or dst not in ("false", "true")):
        raise UsageError("--move-share %s: is_new_customer's categories are false and true" % text)
    if src == dst or points < 0:
        raise UsageError("--move-share %s: FROM and TO must differ and POINTS be >= 0" % text)
    return field, src, dst, points / 100.0


def parse_missing(text):
    field, sep, rate = text.partition(":")
    if not sep or field not in FIELDS or field == "id":
        raise UsageError("--missing %s: expected FIELD:RATE with FIELD one of %s" % (text, ", ".join(FIELDS[1:])))
    try:
        rate = float(rate)
    except ValueError:
        raise UsageError("--missing %s: RATE must be a number" % text) from None
    if not 0.0 <= rate <= 1.0:
        raise UsageError("--missing %s: RATE must be between 0 and 1" % text)
    return field, rate


def shares(base, moves, field):
    """The category shares after the moves of `field`: a list of (value, share)."""
    out = [list(p) for p in base]
    for f, src, dst, amount in moves:
        if f != field:
            continue
        index = {v: i for i, (v, _) in enumerate(out)}
        if src not in index:
            raise UsageError("--move-share: %s has no category %r (it has %s)" %
                             (field, src, ", ".join(v for v, _ in out)))
        if out[index[src]][1] < amount - 1e-12:
            raise UsageError("--move-share: %s %s has a share of %.4g, less than the %.4g to move"
                             % (field, src, out[index[src]][1], amount))
        out[index[src]][1] = max(out[index[src]][1] - amount, 0.0)
        if dst not in index:
            out.append([dst, 0.0])
            index[dst] = len(out) - 1
        out[index[dst]][1] += amount
    return [(v, s) for v, s in out]


def pick(u, table):
    """Category index for uniform draws u against the cumulative shares of `table`."""
    cum = np.cumsum([sh for _, sh in table])
    cum[-1] = 1.0 + 1e-9   # shares sum to 1 up to rounding: the last category takes the rest
    return np.searchsorted(cum, u, side="right")


def categories(u, base, moves, field):
    """(names, index before the moves, index after them) of each record: the uniform draw u picks
    a category against the cumulative shares of `base`; a move of p from FROM (share s) to TO then
    takes the records of FROM in the top p/s of FROM's interval, so that only those records
    change and the shares become exactly the moved ones."""
    after = shares(base, moves, field)
    names = [v for v, _ in after]             # the base categories first, in order
    share = [sh for _, sh in base] + [0.0] * (len(after) - len(base))
    before = pick(u, base)
    lo = np.concatenate([[0.0], np.cumsum([sh for _, sh in base])[:-1]])
    width = np.asarray([sh for _, sh in base])
    w = np.clip((u - lo[before]) / np.where(width[before] > 0, width[before], 1.0), 0.0, np.nextafter(1.0, 0.0))
    cat = before.copy()
    index = {v: i for i, v in enumerate(names)}
    for f, src, dst, amount in moves:
        if f != field:
            continue
        s, d = index[src], index[dst]
        frac = min(amount / share[s], 1.0) if share[s] > 0 else 0.0
        cut = 1.0 - frac
        in_src = cat == s
        moving = in_src & (w >= cut)
        staying = in_src & ~moving
        if cut > 0:
            w[staying] = w[staying] / cut
        if frac > 0:
            w[moving] = (w[moving] - cut) / frac
        cat[moving] = d
        share[s] -= amount
        share[d] += amount
    return names, before, cat


def generate(n, seed=0, first_id=1, shifts=(), moves=(), missing=(), start=1):
    """The records as columns: dict field -> numpy array (country: an array of str; missing
    values as a boolean mask per field under "missing")."""
    rng = np.random.default_rng(seed)
    # Every draw, always, in this order: options never change the stream of random numbers.
    z_amount = rng.standard_normal(n)
    u_hour = rng.random(n)
    u_country = rng.random(n)
    u_new = rng.random(n)
    u_missing = {f: rng.random(n) for f in FIELDS[1:]}

    drifted = np.arange(n) >= (start - 1)
    sds = {"amount": 0.0, "hour": 0.0}
    for field, s in shifts:
        sds[field] += s
    amount = AMOUNT_MEAN + AMOUNT_SD * (z_amount + np.where(drifted, sds["amount"], 0.0))
    amount = np.round(amount, 2) + 0.0   # + 0.0: no "-0.00"
    hour = np.floor(u_hour * 24.0)
    hour = np.clip(np.round(hour + np.where(drifted, sds["hour"] * HOUR_SD, 0.0)), 0, 23).astype(np.int64)

    names, before, after = categories(u_country, COUNTRY_SHARES, moves, "country")
    country = np.array(names, dtype=object)[np.where(drifted, after, before)]

    base_new = [("false", 1.0 - NEW_CUSTOMER_SHARE), ("true", NEW_CUSTOMER_SHARE)]
    names, before, after = categories(u_new, base_new, moves, "is_new_customer")
    new = np.array([v == "true" for v in names])[np.where(drifted, after, before)]

    rates = dict(missing)
    mask = {f: drifted & (u_missing[f] < rates[f]) if f in rates else np.zeros(n, dtype=bool) for f in FIELDS[1:]}
    return {"id": np.arange(first_id, first_id + n, dtype=np.int64), "amount": amount, "hour": hour,
            "country": country, "is_new_customer": new, "missing": mask}


def render(columns):
    """The records as JSON lines, one string."""
    n = len(columns["id"])
    mask = columns["missing"]
    amount = ["%.2f" % a for a in columns["amount"].tolist()]
    hour = [str(h) for h in columns["hour"].tolist()]
    quoted = {c: json.dumps(c) for c in set(columns["country"].tolist())}
    country = [quoted[c] for c in columns["country"].tolist()]
    new = ["true" if b else "false" for b in columns["is_new_customer"].tolist()]
    ids = [str(i) for i in columns["id"].tolist()]
    if not any(m.any() for m in mask.values()):
        lines = ['{"id":%s,"amount":%s,"hour":%s,"country":%s,"is_new_customer":%s}' % t
                 for t in zip(ids, amount, hour, country, new)]
    else:
        cols = [("amount", amount), ("hour", hour), ("country", country), ("is_new_customer", new)]
        masks = [mask[f].tolist() for f, _ in cols]
        lines = []
        for i in range(n):
            parts = ['"id":' + ids[i]]
            for (f, values), m in zip(cols, masks):
                if not m[i]:
                    parts.append('"%s":%s' % (f, values[i]))
            lines.append("{" + ",".join(parts) + "}")
    return "\n".join(lines) + "\n" if lines else ""


def main(argv=None):
    p = argparse.ArgumentParser(description="Synthetic demo transactions (JSON lines on stdout), optionally "
                                            "drifted from record --start on.")
    p.add_argument("--records", type=int, default=10000, help="how many records (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--first-id", type=int, default=1, help="id of the first record (default 1)")
    p.add_argument("--shift-mean", action="append", default=[], metavar="FIELD:SDS",
                   help="add SDS standard deviations to FIELD's mean (amount, hour)")
    p.add_argument("--move-share", action="append", default=[], metavar="FIELD:FROM:TO:POINTS",
                   help="move POINTS percentage points of share from category FROM to TO (country, is_new_customer)")
    p.add_argument("--missing", action="append", default=[], metavar="FIELD:RATE",
                   help="leave FIELD out of a share RATE of the records (only country is optional in the demo)")
    p.add_argument("--start", type=int, default=1, help="the drift applies from this record on (1-based; default 1)")
    args = p.parse_args(argv)
    try:
        if args.records < 0:
            raise UsageError("--records must be >= 0")
        if args.start < 1:
            raise UsageError("--start must be >= 1")
        cols = generate(args.records, seed=args.seed, first_id=args.first_id,
                        shifts=[parse_shift(s) for s in args.shift_mean],
                        moves=[parse_move(m) for m in args.move_share],
                        missing=[parse_missing(m) for m in args.missing], start=args.start)
    except UsageError as e:
        print("drift_data: error: %s" % e, file=sys.stderr)
        return 2
    try:
        sys.stdout.write(render(cols))
        sys.stdout.flush()
    except BrokenPipeError:
        try:
            sys.stdout.close()
        except BrokenPipeError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
