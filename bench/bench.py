#!/usr/bin/python3
"""bench.py - `make bench`: dlc's generated code against PyTorch and
against hand-written C, fused loss-and-gradient against loss alone, the
medium MLP's GFLOP/s against this machine's measured peak, compile times
and trainer memory.  Prints a table and writes docs/performance.md and
docs/performance.svg.

Fairness rules this script keeps:
  - every side gets the same model, data, batch windows (consecutive rows,
    no shuffling), initial parameters (from dlc's MODEL_init), optimiser
    and number of steps, in f32; the losses after the same steps are
    printed side by side as a check that the work is the same;
  - the sides being compared run in this one process, interleaved
    (ABAB..., the order flipped every round), so that noise from other work
    on the machine hits both alike; each figure is the median of the rounds
    with the minimum and maximum beside it;
  - generated code, hand-written C and the peak loop are compiled with the
    flags dlc uses for trainers (driver/main.c, build_trainer).
Run with Debian's /usr/bin/python3, whose torch uses the system BLAS
(OpenBLAS once libopenblas-dev is installed).
"""
import ctypes
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "bench")
DLC = os.path.join(ROOT, "build", "dlc")
CC = os.environ.get("CC", "cc")
# The trainer's flags, as in driver/main.c's build_trainer (which adds the
# cost model flag only when CC is GCC).
TRAINER_FLAGS = ["-std=c11", "-O2", "-march=native", "-fno-math-errno"]
if "Free Software Foundation" in subprocess.run(
        [CC, "--version"], capture_output=True, text=True).stdout:
    TRAINER_FLAGS.append("-fvect-cost-model=dynamic")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
ROUND_SECONDS = 0.03    # each side runs about this long per round
FP = ctypes.POINTER(ctypes.c_float)


# ---------------------------------------------------------------- building

def run(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def build_lib(name, source):
    """MODEL.c from dlc plus bench/dlc_lib.c and the trainer's thread pool
    (runtime/pool.c), as a shared library."""
    gen = os.path.join(BUILD, name)
    os.makedirs(gen, exist_ok=True)
    run([DLC, "--emit=c", "--name=" + name, "-o", gen + "/", source])
    lib = os.path.join(BUILD, "lib%s.so" % name)
    run([CC] + TRAINER_FLAGS + ["-D_POSIX_C_SOURCE=200809L", "-fPIC",
        "-shared", "-DMODEL=" + name, "-I" + gen,
        "-I" + os.path.join(ROOT, "runtime"),
        os.path.join(ROOT, "bench", "dlc_lib.c"),
        os.path.join(ROOT, "runtime", "pool.c"),
        os.path.join(gen, name + ".c"), "-lm", "-pthread", "-o", lib])
    return load(lib)


def build_c(name, extra=()):
    """A bench/NAME.c as a shared library; returns its path."""
    lib = os.path.join(BUILD, "lib%s.so" % name)
    run([CC] + TRAINER_FLAGS + list(extra) + ["-D_POSIX_C_SOURCE=200809L",
        "-fPIC", "-shared", os.path.join(ROOT, "bench", name + ".c"),
        "-lm", "-o", lib])
    return lib


def load(path):
    lib = ctypes.CDLL(path)
    for f in ("bench_train", "bench_grad", "bench_loss"):
        if hasattr(lib, f):
            getattr(lib, f).restype = ctypes.c_double
            getattr(lib, f).argtypes = [ctypes.c_long]
    lib.bench_setup.argtypes = [FP, FP, FP, ctypes.c_long, ctypes.c_long,
                                ctypes.c_long]
    if hasattr(lib, "bench_init_params"):
        lib.bench_init_params.argtypes = [FP, ctypes.c_ulonglong]
        lib.bench_workspace_bytes.restype = ctypes.c_double
        lib.bench_workspace_bytes.argtypes = [ctypes.c_long]
    return lib


def ptr(a):
    return a.ctypes.data_as(FP)


# -------------------------------------------------------------------- data

def csv_data(path, rows, scale):
    """The first `rows` rows of one of examples/data's CSV files: the
    features divided by `scale`, and the label in the last column."""
    table = np.loadtxt(os.path.join(ROOT, "examples", "data", path),
                       delimiter=",", skiprows=1, dtype=np.float64)
    if len(table) < rows:
        sys.exit("bench: %s has fewer than %d rows" % (path, rows))
    table = table[:rows]
    return ((table[:, :-1] / scale).astype(np.float32),
            table[:, -1:].astype(np.float32))


FASHION = os.environ.get("FASHION_DIR", "/usr/share/datasets/fashion-mnist")


def fashion_data(rows):
    """The first `rows` Fashion-MNIST training images (pixels / 255) and
    labels, from Debian's dataset-fashion-mnist (make fashion-data)."""
    import gzip
    with gzip.open(os.path.join(FASHION, "train-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16)
    with gzip.open(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = images[:rows * 784].reshape(rows, 784).astype(np.float32) / 255
    return x, labels[:rows].astype(np.float32).reshape(rows, 1)


def polyfit_data(rng, rows):
    """The curve of examples/data/gen_polyfit.c, at 1,000 points."""
    x = np.linspace(-1, 1, rows)
    y = np.sin(np.pi * x) + x * x / 2 + rng.normal(0, 0.03, rows)
    return (x.astype(np.float32).reshape(rows, 1),
            y.astype(np.float32).reshape(rows, 1))


# The compared models: source, batch, rows of data, data maker, the
# parameter shapes in declaration order, and the PyTorch step.
def polyfit_torch(p, x, y):
    k = p
    yhat = (k[0] + k[1] * x + k[2] * x ** 2 + k[3] * x ** 3 + k[4] * x ** 4
            + k[5] * x ** 5)
    return ((yhat - y) ** 2).mean()


def iris_torch(p, x, y):
    h = torch.tanh(F.linear(x, p[0], p[1]))
    return F.cross_entropy(F.linear(h, p[2], p[3]), y)


def digits_torch(p, x, y):
    h = torch.relu(F.linear(x / 16, p[0], p[1]))
    return F.cross_entropy(F.linear(h, p[2], p[3]), y)


def mlp_torch(p, x, y):
    h1 = torch.relu(F.linear(x, p[0], p[1]))
    h2 = torch.relu(F.linear(h1, p[2], p[3]))
    return F.cross_entropy(F.linear(h2, p[4], p[5]), y)


MODELS = {
    "polyfit": dict(src="examples/polyfit.dl", batch=1000, rows=1000,
                    data=lambda r: polyfit_data(r, 1000),
                    shapes=[()] * 6, fn=polyfit_torch,
                    opt=lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
                    classes=False,
                    what="1,000 points of examples/data/gen_polyfit.c's "
                         "curve, full batch"),
    "iris": dict(src="examples/iris.dl", batch=32, rows=96,
                 data=lambda r: csv_data("iris_train.csv", 96, 1),
                 shapes=[(16, 4), (16,), (3, 16), (3,)], fn=iris_torch,
                 opt=lambda ps: torch.optim.Adam(ps, lr=0.01),
                 classes=True,
                 what="the first 96 rows of examples/data/iris_train.csv"),
    "digits": dict(src="examples/digits.dl", batch=32, rows=1408,
                   data=lambda r: csv_data("digits_train.csv", 1408, 1),
                   shapes=[(64, 64), (64,), (10, 64), (10,)],
                   fn=digits_torch,
                   opt=lambda ps: torch.optim.Adam(ps, lr=0.003),
                   classes=True,
                   what="the first 1,408 rows of "
                        "examples/data/digits_train.csv"),
    "mlp": dict(src="bench/models/mlp.dl", batch=128, rows=1024,
                data=lambda r: fashion_data(1024),
                shapes=[(256, 784), (256,), (256, 256), (256,), (10, 256),
                        (10,)], fn=mlp_torch,
                opt=lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9),
                classes=True,
                what="the first 1,024 Fashion-MNIST training images, "
                     "pixels / 255"),
}


# ---------------------------------------------------------------- timing

def calibrate(fn):
    """Steps per call so that one call takes about ROUND_SECONDS."""
    steps = 1
    while True:
        t = time.perf_counter()
        fn(steps)
        dt = time.perf_counter() - t
        if dt > ROUND_SECONDS / 4 or steps > 1 << 20:
            return max(1, int(steps * ROUND_SECONDS / max(dt, 1e-9)))
        steps *= 4


def interleave(sides, rounds=ROUNDS):
    """sides: name -> fn(steps).  Seconds per step, per round, per side."""
    steps = {n: calibrate(f) for n, f in sides.items()}
    times = {n: [] for n in sides}
    names = list(sides)
    for r in range(rounds):
        for n in (names if r % 2 == 0 else names[::-1]):
            t = time.perf_counter()
            sides[n](steps[n])
            times[n].append((time.perf_counter() - t) / steps[n])
    return times


def stats(xs):
    return statistics.median(xs), min(xs), max(xs)


class TorchSide:
    """The PyTorch training loop of one model over pre-cut batches."""

    def __init__(self, cfg, p0, x, y):
        self.cfg = cfg
        flat, self.params, off = torch.from_numpy(p0.copy()), [], 0
        for s in cfg["shapes"]:
            n = int(np.prod(s)) if s else 1
            self.params.append(flat[off:off + n].reshape(s).clone()
                               .requires_grad_(True))
            off += n
        self.opt = cfg["opt"](self.params)
        b = cfg["batch"]
        xs, ys = torch.from_numpy(x), torch.from_numpy(y)
        if cfg["classes"]:
            ys = ys.reshape(-1).long()
        elif x.shape[1] == 1:
            xs, ys = xs.reshape(-1), ys.reshape(-1)
        self.batches = [(xs[i:i + b].contiguous(), ys[i:i + b].contiguous())
                        for i in range(0, len(xs), b)]
        self.pos = 0

    def train(self, steps):
        loss = None
        for _ in range(steps):
            xb, yb = self.batches[self.pos]
            self.pos = (self.pos + 1) % len(self.batches)
            self.opt.zero_grad(set_to_none=True)
            loss = self.cfg["fn"](self.params, xb, yb)
            loss.backward()
            self.opt.step()
        return float(loss)


# ------------------------------------------------------------ measurements

def model_setup(name, cfg, rng):
    lib = build_lib(name, os.path.join(ROOT, cfg["src"]))
    p0 = np.zeros(lib.bench_nparams(), np.float32)
    lib.bench_init_params(ptr(p0), 7)
    x, y = cfg["data"](rng)
    return lib, p0, x, y


def setup(lib, p0, x, y, batch, threads=1):
    if lib.bench_setup(ptr(p0), ptr(x), ptr(y), len(x), batch, threads):
        sys.exit("bench: setup failed")


def same_work(lib, p0, x, y, cfg, steps=20, threads=1):
    """Losses after `steps` steps from the same start, dlc and PyTorch."""
    setup(lib, p0, x, y, cfg["batch"], threads)
    ours = lib.bench_train(steps)
    theirs = TorchSide(cfg, p0, x, y).train(steps)
    return ours, theirs


def openblas_libraries():
    """The OpenBLAS libraries this process has loaded (through torch)."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "openblas" in line}
    found = []
    for path in sorted(paths):
        try:
            found.append(ctypes.CDLL(path).openblas_set_num_threads)
        except (OSError, AttributeError):
            pass
    return found


def torch_threads(n):
    """PyTorch on n threads.  torch.set_num_threads governs ATen's own
    loops only: OpenBLAS keeps a thread pool of its own, sized to every
    core, so without this a "one thread" PyTorch would run its matrix
    products on all of them."""
    torch.set_num_threads(n)
    for set_threads in openblas_libraries():
        set_threads(n)


def vs_torch(name, cfg, lib, p0, x, y, threads, results):
    torch_threads(threads)
    check = same_work(lib, p0, x, y, cfg, threads=threads)
    setup(lib, p0, x, y, cfg["batch"], threads)
    side = TorchSide(cfg, p0, x, y)
    t = interleave({"dlc": lib.bench_train, "torch": side.train})
    results.append(dict(kind="torch", model=name, threads=threads,
                        dlc=stats(t["dlc"]), other=stats(t["torch"]),
                        check=check))


def vs_hand(name, cfg, lib, hand, p0, x, y, results):
    setup(lib, p0, x, y, cfg["batch"])
    setup(hand, p0, x, y, cfg["batch"])
    check = (lib.bench_train(20), hand.bench_train(20))
    setup(lib, p0, x, y, cfg["batch"])
    setup(hand, p0, x, y, cfg["batch"])
    t = interleave({"dlc": lib.bench_train, "hand": hand.bench_train})
    results.append(dict(kind="hand", model=name, dlc=stats(t["dlc"]),
                        other=stats(t["hand"]), check=check))


def mlp_flops(batch):
    """Multiply-adds of the matrix products in one step, times two: the
    forward products, the weight gradients, and the input gradients of
    layers 2 and 3 (layer 1's is not needed)."""
    layers = [(784, 256), (256, 256), (256, 10)]
    fwd = sum(i * o for i, o in layers)
    return 2 * batch * (2 * fwd + 256 * 256 + 256 * 10)


def vs_peak(lib, peak, p0, x, y, results):
    peak.bench_peak_gflops.restype = ctypes.c_double
    peak.bench_peak_gflops.argtypes = [ctypes.c_long, ctypes.c_int]
    setup(lib, p0, x, y, 128)
    gf = []

    def fma(steps):
        gf.append(max(peak.bench_peak_gflops(200000 * steps, 0),
                      peak.bench_peak_gflops(100000 * steps, 1)))

    t = interleave({"dlc": lib.bench_train, "peak": fma})
    achieved = [mlp_flops(128) / s / 1e9 for s in t["dlc"]]
    results.append(dict(kind="peak", achieved=stats(achieved),
                        peak=stats(gf[-ROUNDS:])))


def fused_vs_loss(name, lib, x, y, batch, p0, results):
    setup(lib, p0, x, y, batch)
    t = interleave({"grad": lib.bench_grad, "loss": lib.bench_loss})
    results.append(dict(kind="fused", model=name, grad=stats(t["grad"]),
                        loss=stats(t["loss"])))


def example_data(lib, rng, batch):
    """Random rows for a model known only through its library."""
    nin = ctypes.c_long.in_dll(lib, "bench_ninputs").value
    nt = ctypes.c_long.in_dll(lib, "bench_ntargets").value
    rows = 8 * batch
    x = rng.standard_normal((rows, nin)).astype(np.float32)
    y = rng.integers(0, 2, (rows, max(nt, 1))).astype(np.float32)
    return x, y


def timed(cmd, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        run(cmd, stdout=subprocess.DEVNULL)
        ts.append(time.perf_counter() - t)
    return stats(ts)


def compile_times(results):
    out = os.path.join(BUILD, "compile")
    os.makedirs(out, exist_ok=True)
    for src in example_sources():
        name = os.path.splitext(os.path.basename(src))[0]
        c = timed([DLC, "--emit=c", "-o", out + "/", src], 7)
        tr = timed([DLC, "-o", os.path.join(out, name), src], 3)
        results.append(dict(kind="compile", model=name, c=c, trainer=tr))


def example_sources():
    ex = sorted(os.path.join(ROOT, "examples", f)
                for f in os.listdir(os.path.join(ROOT, "examples"))
                if f.endswith(".dl"))
    return ex + [os.path.join(ROOT, MODELS["mlp"]["src"])]


def trainer_memory(name, cfg, lib, x, y, results):
    """Peak RSS of the trainer on the model's data, one epoch, against
    data + 2 (params + grads + optimiser state + workspace) + 8 MB."""
    d = os.path.join(BUILD, "mem")
    os.makedirs(d, exist_ok=True)
    exe = os.path.join(d, name)
    run([DLC, "-o", exe, os.path.join(ROOT, cfg["src"])])
    xs, ys = os.path.join(d, name + "_x.npy"), os.path.join(d, name + "_y.npy")
    np.save(xs, x)
    np.save(ys, y)
    rss = os.path.join(BUILD, "rss")
    run([CC, "-std=c11", "-O2",
         os.path.join(ROOT, "bench", "rss.c"), "-o", rss])
    got = subprocess.run([rss, exe, "--data", xs, "--targets", ys,
                          "--epochs", "1", "--batch", str(cfg["batch"])],
                         capture_output=True, text=True, check=True)
    peak = int(got.stdout.split()[-1])
    n = lib.bench_nparams() * 4
    data = x.nbytes + y.nbytes
    state = n + n + 2 * n + lib.bench_workspace_bytes(cfg["batch"])
    bound = data + 2 * state + 8 * 2 ** 20
    results.append(dict(kind="memory", model=name, rss=peak,
                        data=data, state=state, bound=bound))


# -------------------------------------------------------------------- main

def main():
    os.makedirs(BUILD, exist_ok=True)
    torch.manual_seed(0)
    rng = np.random.default_rng(20261204)
    results, libs = [], {}
    hand = {m: load(build_c("hand_" + m)) for m in ("polyfit", "mlp")}
    peak = ctypes.CDLL(build_c("peak", ["-ffp-contract=fast"]))
    for name, cfg in MODELS.items():
        print("bench: %s" % name, file=sys.stderr)
        lib, p0, x, y = model_setup(name, cfg, rng)
        libs[name] = (lib, p0, x, y)
        vs_torch(name, cfg, lib, p0, x, y, 1, results)
        vs_torch(name, cfg, lib, p0, x, y, os.cpu_count(), results)
        if name in hand:
            vs_hand(name, cfg, lib, hand[name], p0, x, y, results)
        fused_vs_loss(name, lib, x, y, cfg["batch"], p0, results)
        trainer_memory(name, cfg, lib, x, y, results)
    torch_threads(1)
    vs_peak(libs["mlp"][0], peak, *libs["mlp"][1:], results)
    for src in example_sources():
        name = os.path.splitext(os.path.basename(src))[0]
        if name in MODELS:
            continue
        lib = build_lib(name, src)
        p0 = np.zeros(lib.bench_nparams(), np.float32)
        lib.bench_init_params(ptr(p0), 7)
        batch = ctypes.c_long.in_dll(lib, "bench_batch").value
        x, y = example_data(lib, rng, batch)
        fused_vs_loss(name, lib, x, y, batch, p0, results)
    print("bench: compile times", file=sys.stderr)
    compile_times(results)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import report
    report.write(results, MODELS, machine(), ROUNDS, ROOT)


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    cc = subprocess.run([CC, "--version"], capture_output=True,
                        text=True).stdout.splitlines()[0]
    with open("/proc/self/maps") as f:
        loaded = sorted({line.split()[-1] for line in f
                         if "blas" in line.split()[-1]})
    blas = "BLAS through " + (", ".join(os.path.basename(p) for p in loaded)
                              or "no BLAS library found loaded")
    return dict(cpu=cpu, cores=os.cpu_count(), kernel=platform.release(),
                cc=cc, flags=" ".join(TRAINER_FLAGS),
                torch=torch.__version__, blas=blas,
                load=open("/proc/loadavg").read().split()[:3])


if __name__ == "__main__":
    main()
