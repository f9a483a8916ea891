"""report.py - turns bench.py's measurements into the table it prints,
docs/performance.md, and docs/performance.svg (a small SVG writer of our
own: one bar per target, its measured margin on a log scale)."""
import os
import time


def us(s):
    return "%.1f us" % (s * 1e6) if s < 1e-3 else "%.3f ms" % (s * 1e3)


def spread(st, fmt=us):
    med, lo, hi = st
    return "%s (%s .. %s)" % (fmt(med), fmt(lo), fmt(hi))


def verdict(ok):
    return "met" if ok else "**NOT MET**"


def target_rows(results):
    """(target, what, measured, needed, margin, met); margin >= 1 is met."""
    rows = []
    for r in results:
        k = r["kind"]
        if k == "torch" and r["threads"] == 1 and r["model"] != "mlp":
            need = 30 if r["model"] == "polyfit" else 10
            x = r["other"][0] / r["dlc"][0]
            rows.append(("1", "%s: PyTorch step / dlc step" % r["model"],
                         "%.1fx" % x, ">= %dx" % need, x / need, x >= need))
        elif k == "torch" and r["model"] == "mlp":
            x = r["other"][0] / r["dlc"][0]
            who = ("1 thread each" if r["threads"] == 1 else
                   "%d threads each" % r["threads"])
            rows.append(("2", "mlp, %s: PyTorch step / dlc step" % who,
                         "%.2fx" % x, ">= 1x", x, x >= 1))
        elif k == "fused":
            x = r["grad"][0] / r["loss"][0]
            rows.append(("3", "%s: loss_grad / loss" % r["model"],
                         "%.2fx" % x, "<= 3x", 3 / x, x <= 3))
        elif k == "hand":
            x = r["dlc"][0] / r["other"][0]
            rows.append(("4", "%s: dlc step / hand-written C step" %
                         r["model"], "%.2fx" % x, "<= 1.2x", 1.2 / x,
                         x <= 1.2))
        elif k == "peak":
            x = r["achieved"][0] / r["peak"][0]
            rows.append(("5", "mlp: achieved / single-core peak",
                         "%.0f%%" % (100 * x), ">= 50%", x / 0.5, x >= 0.5))
        elif k == "compile":
            c, t = r["c"][0], r["trainer"][0]
            rows.append(("6", "%s: dlc alone" % r["model"], us(c),
                         "<= 50 ms", 0.05 / c, c <= 0.05))
            rows.append(("6", "%s: to a trainer" % r["model"], us(t),
                         "<= 2 s", 2 / t, t <= 2))
        elif k == "memory":
            x = r["rss"] / r["bound"]
            rows.append(("7", "%s: trainer peak RSS" % r["model"],
                         "%.1f MB" % (r["rss"] / 2 ** 20),
                         "<= %.1f MB" % (r["bound"] / 2 ** 20), 1 / x,
                         x <= 1))
    return rows


def detail_tables(results):
    out = ["### Training steps: dlc against PyTorch", "",
           "| model | threads | dlc step | PyTorch step | PyTorch / dlc "
           "| loss after 20 steps (dlc, PyTorch) |", "|---|---|---|---|---|---|"]
    for r in results:
        if r["kind"] == "torch":
            out.append("| %s | %d | %s | %s | %.1fx | %.6g, %.6g |" % (
                r["model"], r["threads"], spread(r["dlc"]),
                spread(r["other"]), r["other"][0] / r["dlc"][0],
                *r["check"]))
    out += ["", "### Training steps: dlc against hand-written C", "",
            "| model | dlc step | hand-written C step | dlc / hand "
            "| loss after 20 steps (dlc, hand) |", "|---|---|---|---|---|"]
    for r in results:
        if r["kind"] == "hand":
            out.append("| %s | %s | %s | %.2fx | %.6g, %.6g |" % (
                r["model"], spread(r["dlc"]), spread(r["other"]),
                r["dlc"][0] / r["other"][0], *r["check"]))
    out += ["", "### Fused loss and gradient against loss alone", "",
            "| model | loss_grad | loss | ratio |", "|---|---|---|---|"]
    for r in results:
        if r["kind"] == "fused":
            out.append("| %s | %s | %s | %.2fx |" % (
                r["model"], spread(r["grad"]), spread(r["loss"]),
                r["grad"][0] / r["loss"][0]))
    gf = lambda v: "%.1f" % v
    for r in results:
        if r["kind"] == "peak":
            out += ["", "### Medium MLP against the machine's peak", "",
                    "| | GFLOP/s |", "|---|---|",
                    "| mlp step (matrix products' flops / step time) | %s |"
                    % spread(r["achieved"], gf),
                    "| single-core f32 peak (FMA loop) | %s |"
                    % spread(r["peak"], gf)]
    out += ["", "### Compile times", "",
            "| example | dlc --emit=c | dlc to a trainer |", "|---|---|---|"]
    for r in results:
        if r["kind"] == "compile":
            out.append("| %s | %s | %s |" % (r["model"], spread(r["c"]),
                                             spread(r["trainer"])))
    out += ["", "### Trainer memory", "",
            "| model | peak RSS | data | params+grads+state+workspace "
            "| bound |", "|---|---|---|---|---|"]
    mb = lambda b: "%.2f MB" % (b / 2 ** 20)
    for r in results:
        if r["kind"] == "memory":
            out.append("| %s | %s | %s | %s | %s |" % (
                r["model"], mb(r["rss"]), mb(r["data"]), mb(r["state"]),
                mb(r["bound"])))
    return out


def svg(rows):
    """Bars of each target's margin (measured over needed, inverted where
    lower is better) on a log scale; the line at 1 is the target."""
    import math
    w, left, bar, lo, hi = 760, 330, 16, -1.0, 2.0
    h = 40 + bar * len(rows) + 30
    x_of = lambda m: left + (w - left - 20) * (
        (min(max(math.log10(m), lo), hi) - lo) / (hi - lo))
    s = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
         'font-family="sans-serif" font-size="11">' % (w, h),
         '<text x="10" y="18" font-size="13">dlc: margin over each target '
         '(log scale; right of the line is met)</text>']
    for i, (t, what, meas, need, margin, ok) in enumerate(rows):
        y = 32 + i * bar
        s.append('<text x="%d" y="%d" text-anchor="end">%s %s</text>' % (
            left - 6, y + 11, t, what.replace("&", "&amp;")))
        x0, x1 = x_of(1), x_of(max(margin, 1e-9))
        s.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" '
                 'fill="%s"/>' % (min(x0, x1), y + 2, abs(x1 - x0) + 0.5,
                                  bar - 4, "#3a7" if ok else "#d43"))
    s.append('<line x1="%.1f" y1="28" x2="%.1f" y2="%d" stroke="black"/>' %
             (x_of(1), x_of(1), h - 24))
    for p in range(int(lo), int(hi) + 1):
        s.append('<text x="%.1f" y="%d" text-anchor="middle">%gx</text>' %
                 (x_of(10 ** p), h - 8, 10 ** p))
    s.append("</svg>")
    return "\n".join(s) + "\n"


def write(results, models, machine, rounds, root):
    rows = target_rows(results)
    table = ["| target | measure | measured | needed | |",
             "|---|---|---|---|---|"]
    for t, what, meas, need, margin, ok in rows:
        table.append("| %s | %s | %s | %s | %s |" % (t, what, meas, need,
                                                      verdict(ok)))
    print("\n".join(table))
    print()
    print("\n".join(detail_tables(results)))
    md = ["# Performance", "",
          "Produced by `make bench` (bench/bench.py) on %s." %
          time.strftime("%Y-%m-%d"), "",
          "Machine: %s, %d cores seen; Linux %s; load average %s when the "
          "run began (the machine is shared, so absolute times are noisy; "
          "the compared sides run interleaved in one process, and ratios "
          "are what the targets are about)." % (
              machine["cpu"], machine["cores"], machine["kernel"],
              " ".join(machine["load"])),
          "Compiler: %s, trainer flags `%s`.  PyTorch %s (%s), run by "
          "/usr/bin/python3 with OpenBLAS from libopenblas-dev." % (
              machine["cc"], machine["flags"], machine["torch"],
              machine["blas"]), "",
          "Each figure is the median of %d interleaved rounds, with the "
          "minimum and maximum in brackets.  f32 throughout; one thread "
          "unless a row says otherwise.  \"dlc with N threads\" is the "
          "trainer's --threads N: its thread pool (runtime/pool.c, which "
          "bench/dlc_lib.c compiles in) splits each batch into N equal "
          "parts, one per thread, each calling the generated "
          "MODEL_loss_grad with its own workspace, then adds the parts' "
          "gradients weighted by their share; the generated code itself "
          "has no threads.  PyTorch with N threads is "
          "torch.set_num_threads(N) and, since OpenBLAS keeps a thread "
          "pool of its own, openblas_set_num_threads(N) on the OpenBLAS "
          "that torch loaded.  dlc's side is the C backend's code "
          "(--emit=c) built with the trainer flags.  With all threads "
          "both sides' times spread widely on this two-core virtual "
          "machine (idle OpenMP and OpenBLAS threads spin, and the second "
          "core is not always there to have), and neither gains reliably "
          "from the second thread: read the minimum and maximum beside "
          "each median.  Trainers "
          "default to the LLVM backend, which shares the schedule, the "
          "memory plan and the matrix kernel; bench/backends.sh compares "
          "the two per example: LLVM is as fast or faster on the "
          "networks, but not yet on models of a few scalars, where it "
          "lacks the C backend's loop scalars (polyfit's step is about "
          "ten times the C one's, still far under PyTorch's)." % rounds,
          "",
          "Data: " + "; ".join("%s: %s" % (n, m["what"])
                               for n, m in models.items()) + ".", "",
          "![targets](performance.svg)", "", "## Targets", ""]
    md += table + [""] + detail_tables(results) + [""]
    with open(os.path.join(root, "docs", "performance.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(root, "docs", "performance.svg"), "w") as f:
        f.write(svg(rows))
