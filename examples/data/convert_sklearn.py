#!/usr/bin/python3
"""convert_sklearn.py - turns the public data sets that Debian's
python3-sklearn package ships as raw files into the plain numeric CSV
files of examples/data/, split into a training and a test file.

Run once, from anywhere:

    python3 examples/data/convert_sklearn.py            # fetches the .deb
    python3 examples/data/convert_sklearn.py --from DIR # an unpacked one

Without --from it fetches the package with `apt-get download` and unpacks
it with `dpkg -x` into a temporary folder: nothing is installed, and
scikit-learn itself is never imported, only its data files are read.

The split is fixed and needs no random numbers: the row with 0-based
index i in the package's file goes to the test set when i % 5 == 4, to
the training set otherwise.  The classification files are sorted by
class, so every class keeps four fifths of its rows for training.
"""
import csv
import glob
import gzip
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = "usr/lib/python3/dist-packages/sklearn/datasets/data"

CANCER = [f"{stat}_{name}" for stat in ("mean", "se", "worst")
          for name in ("radius", "texture", "perimeter", "area",
                       "smoothness", "compactness", "concavity",
                       "concave_points", "symmetry", "fractal_dimension")]
WINE = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium",
        "total_phenols", "flavanoids", "nonflavanoid_phenols",
        "proanthocyanins", "color_intensity", "hue", "od280_od315",
        "proline"]
IRIS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
DIABETES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


def read_rows(path, skip_first, sep=","):
    """The numeric rows of a CSV or whitespace file, gzipped or not."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        lines = [ln for ln in f.read().splitlines() if ln.strip()]
    lines = lines[1:] if skip_first else lines
    return [[float(v) for v in ln.split(sep)] for ln in lines]


def number(v):
    """Whole numbers without a decimal point, others as written."""
    return str(int(v)) if v == int(v) else repr(v)


def write_split(name, header, rows):
    """name_train.csv and name_test.csv: every fifth row is a test row."""
    parts = {"train": [r for i, r in enumerate(rows) if i % 5 != 4],
             "test": [r for i, r in enumerate(rows) if i % 5 == 4]}
    for part, chosen in parts.items():
        path = os.path.join(HERE, f"{name}_{part}.csv")
        with open(path, "w", newline="") as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(header)
            out.writerows([number(v) for v in r] for r in chosen)
        print(f"{path}: {len(chosen)} rows, {len(header)} columns")


def convert(root):
    data = os.path.join(root, DATA)
    rows = read_rows(os.path.join(data, "iris.csv"), True)
    write_split("iris", IRIS + ["species"], rows)
    # the package codes 0 malignant, 1 benign; our target is "malignant"
    rows = read_rows(os.path.join(data, "breast_cancer.csv"), True)
    write_split("cancer", CANCER + ["malignant"],
                [r[:-1] + [1 - r[-1]] for r in rows])
    rows = read_rows(os.path.join(data, "wine_data.csv"), True)
    write_split("wine", WINE + ["cultivar"], rows)
    rows = read_rows(os.path.join(data, "digits.csv.gz"), False)
    write_split("digits", [f"p{i}" for i in range(64)] + ["digit"], rows)
    x = read_rows(os.path.join(data, "diabetes_data_raw.csv.gz"), False,
                  None)
    y = read_rows(os.path.join(data, "diabetes_target.csv.gz"), False)
    write_split("diabetes", DIABETES + ["progression"],
                [a + b for a, b in zip(x, y)])


def fetch(tmp):
    """Downloads python3-sklearn's .deb into tmp and unpacks it there."""
    subprocess.run(["apt-get", "download", "python3-sklearn"], cwd=tmp,
                   check=True)
    deb = glob.glob(os.path.join(tmp, "python3-sklearn_*.deb"))[0]
    root = os.path.join(tmp, "root")
    subprocess.run(["dpkg", "-x", deb, root], check=True)
    return root


def main(argv):
    if len(argv) == 3 and argv[1] == "--from":
        convert(argv[2])
    elif len(argv) == 1:
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o777)  # apt downloads as its own user, _apt
            convert(fetch(tmp))
    else:
        sys.exit("usage: convert_sklearn.py [--from UNPACKED_DEB_DIR]")


if __name__ == "__main__":
    main(sys.argv)
