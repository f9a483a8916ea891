#!/usr/bin/python3
"""run_examples.py - compiles each example with dlc, trains it, scores it
on its held-out data and prints one table; exits 1 if any example misses
its target.  `make examples` runs it; `make NAME` runs one example.

    python3 examples/run_examples.py [--build DIR] [--skip NAME]... [NAME]...

Every number in the table comes from the trainer's own outputs: the loss
log (--log), the parameters (--params-out) and the predictions for the
test rows (--predict); the metrics are computed here from those and the
test files' true targets.  Nothing is taken from the trainer's summary.
"""
import gzip
import json
import math
import os
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "examples", "data")
FASHION = os.environ.get("FASHION_DIR", "/usr/share/datasets/fashion-mnist")


def data(name):
    return os.path.join(DATA, name)


def fashion(name):
    return os.path.join(FASHION, name)


# ---- reading the true targets and the trainer's outputs ----

def csv_rows(path):
    """The numeric rows of a CSV file with a header line; an empty field
    (the loss log's validation columns, without validation) is a NaN."""
    with open(path) as f:
        return [[float(v) if v else math.nan for v in line.split(",")]
                for line in f.read().splitlines()[1:] if line]


def last_column(path):
    return [row[-1] for row in csv_rows(path)]


def idx_labels(path):
    """The labels of a (gzipped) IDX1 unsigned-byte file."""
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        raw = f.read()
    zero, kind, dims = struct.unpack(">HBB", raw[:4])
    (n,) = struct.unpack(">I", raw[4:8])
    if zero != 0 or kind != 8 or dims != 1 or len(raw) != 8 + n:
        raise SystemExit(f"{path}: not an IDX file of byte labels")
    return list(raw[8:])


def params_of(path):
    with open(path) as f:
        return json.load(f)


def count_numbers(value):
    if isinstance(value, list):
        return sum(count_numbers(v) for v in value)
    return 1


# ---- metrics ----

def accuracy(pred, truth):
    """Class = the largest output; one output is P(class 1)."""
    right = 0
    for p, t in zip(pred, truth):
        guess = int(p[0] >= 0.5) if len(p) == 1 else p.index(max(p))
        right += guess == int(t)
    return right / len(truth)


def mse(pred, truth):
    return sum((p[0] - t) ** 2 for p, t in zip(pred, truth)) / len(truth)


def r_squared(pred, truth):
    mean = sum(truth) / len(truth)
    total = sum((t - mean) ** 2 for t in truth)
    return 1 - mse(pred, truth) * len(truth) / total


def mean_error(fitted, truth):
    """The largest distance from a true mean to its fitted one, over the
    best pairing of fitted components with true ones."""
    import itertools
    best = math.inf
    for order in itertools.permutations(range(len(fitted))):
        worst = max(math.dist(fitted[k], t) for k, t in zip(order, truth))
        best = min(best, worst)
    return best


# ---- the examples ----

class Example:
    """examples/NAME.dl, trained with `flags` on top of its train clause,
    then asked to --predict the rows of `test`.  `score(pred, params)`
    turns the predictions and the trained parameters into the test metric,
    which must be at least (`sense` ">=") or at most ("<=") `target`; or,
    with sense "<", below the metric of the `target` example, a
    baseline."""

    def __init__(self, name, flags, test, metric, score, sense, target):
        self.name, self.flags, self.test = name, flags, test
        self.metric, self.score = metric, score
        self.sense, self.target = sense, target

    def met(self, value, target):
        if self.sense == ">=":
            return value >= target
        return value <= target if self.sense == "<=" else value < target


def on_test(fn, path):
    return lambda pred, params: fn(pred, last_column(path))


def mixture_score(pred, params):
    return mean_error(params["mu"], csv_rows(data("mixture_means.csv")))


def fashion_score(pred, params):
    return accuracy(pred, idx_labels(fashion("t10k-labels-idx1-ubyte.gz")))


# Where an example's flags add a schedule, it is because a constant step
# leaves Adam circling the optimum at the end; the cosine schedule settles
# it.  polyfit has no held-out rows: its metric is the fit to its data.
POLY = ["--data", data("polyfit.csv")]
DIABETES = data("diabetes_test.csv")
CANCER, IRIS = data("cancer_test.csv"), data("iris_test.csv")
WINE, DIGITS = data("wine_test.csv"), data("digits_test.csv")
ROBUST = data("robust_test.csv")
LEAST_SQUARES = Example("robust_ls", ["--data", data("robust_train.csv")],
                        ROBUST, "clean mse", on_test(mse, ROBUST), "<=",
                        math.inf)
EXAMPLES = [
    # the noise has variance 0.03^2 = 0.0009: a fit at the noise level
    Example("polyfit", POLY, data("polyfit.csv"), "fit mse",
            on_test(mse, data("polyfit.csv")), "<=", 0.0012),
    # with momentum, as polyfit has it, the fit reaches the noise in time
    Example("polyfit_vec", POLY + ["--momentum", "0.9"], data("polyfit.csv"),
            "fit mse", on_test(mse, data("polyfit.csv")), "<=", 0.0012),
    Example("diabetes", ["--data", data("diabetes_train.csv"),
                         "--standardize", "--schedule", "cosine"],
            DIABETES, "R^2",
            on_test(r_squared, DIABETES), ">=", 0.40),
    Example("cancer", ["--data", data("cancer_train.csv"), "--standardize"],
            CANCER, "accuracy", on_test(accuracy, CANCER), ">=", 0.95),
    Example("iris", ["--data", data("iris_train.csv")], IRIS, "accuracy",
            on_test(accuracy, IRIS), ">=", 0.95),
    Example("wine", ["--data", data("wine_train.csv"), "--standardize"],
            WINE, "accuracy", on_test(accuracy, WINE), ">=", 0.95),
    Example("digits", ["--data", data("digits_train.csv")], DIGITS,
            "accuracy", on_test(accuracy, DIGITS), ">=", 0.96),
    Example("mixture", ["--data", data("mixture.csv"), "--schedule",
                        "cosine"], None, "mean error", mixture_score, "<=",
            0.1),
    Example("robust", ["--data", data("robust_train.csv")], ROBUST,
            "clean mse", on_test(mse, ROBUST), "<", LEAST_SQUARES),
    Example("fashion", ["--data", fashion("train-images-idx3-ubyte.gz"),
                        "--targets", fashion("train-labels-idx1-ubyte.gz"),
                        "--standardize", "--schedule", "cosine"],
            fashion("t10k-images-idx3-ubyte.gz"), "accuracy", fashion_score,
            ">=", 0.88),
]


def sh(argv):
    done = subprocess.run(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        sys.stdout.write(done.stdout)
        raise SystemExit(f"failed ({done.returncode}): {' '.join(argv)}")


def run(ex, build):
    """Compiles, trains and scores one example.  The test rows are
    predicted by the training run itself, after training, so they get
    the training rows' standardisation."""
    out = os.path.join(build, "examples", ex.name)
    sh([os.path.join(build, "dlc"),
        os.path.join(ROOT, "examples", ex.name + ".dl"), "-o", out])
    argv = [out, "--quiet", "--log", out + "-loss.csv", "--params-out",
            out + ".json"] + ex.flags
    if ex.test:
        argv += ["--predict", ex.test, "--out", out + "-pred.csv"]
    start = time.time()
    sh(argv)
    seconds = time.time() - start
    log = csv_rows(out + "-loss.csv")
    params = params_of(out + ".json")
    pred = plain_rows(out + "-pred.csv") if ex.test else None
    target = ex.target
    if isinstance(target, Example):
        target = run(target, build)["metric"]
    metric = ex.score(pred, params)
    return {"ex": ex, "params": count_numbers(list(params.values())),
            "epochs": int(log[-1][0]), "seconds": seconds,
            "loss": log[-1][1], "metric": metric, "target": target,
            "ok": ex.met(metric, target)}


def plain_rows(path):
    """The rows of a CSV file without a header, as --predict writes."""
    with open(path) as f:
        return [[float(v) for v in line.split(",")]
                for line in f.read().splitlines() if line]


def number(ex, value):
    """Accuracies to a hundredth of a percent, other metrics to 4 digits."""
    return f"{value:.4f}" if ex.metric == "accuracy" else f"{value:.4g}"


def print_table(rows):
    lines = [("example", "params", "epochs", "time", "train loss",
              "test metric", "target", "")]
    for r in rows:
        ex = r["ex"]
        what = f"{ex.sense} {r['target']:.4g}"
        if isinstance(ex.target, Example):
            what += f" ({ex.target.name})"
        lines.append((ex.name, str(r["params"]), str(r["epochs"]),
                      f"{r['seconds']:.1f}s", f"{r['loss']:.4g}",
                      f"{ex.metric} {number(ex, r['metric'])}", what,
                      "ok" if r["ok"] else "MISSED"))
    widths = [max(len(line[i]) for line in lines) for i in range(8)]
    for line in lines:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip())


def main(argv):
    build, skip, names = os.path.join(ROOT, "build"), set(), []
    args = iter(argv[1:])
    for a in args:
        if a == "--build":
            build = os.path.abspath(next(args))
        elif a == "--skip":
            skip.add(next(args))
        else:
            names.append(a)
    known = [ex.name for ex in EXAMPLES]
    for n in names + list(skip):
        if n not in known:
            raise SystemExit(f"unknown example {n}; known: {' '.join(known)}")
    os.makedirs(os.path.join(build, "examples"), exist_ok=True)
    start = time.time()
    rows = [run(ex, build) for ex in EXAMPLES
            if (not names or ex.name in names) and ex.name not in skip]
    print_table(rows)
    missed = sum(not r["ok"] for r in rows)
    print(f"{len(rows) - missed} of {len(rows)} examples met their targets "
          f"in {time.time() - start:.0f}s")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
