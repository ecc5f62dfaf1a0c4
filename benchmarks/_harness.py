"""Shared machinery of the benchmarks: data, timing, one subprocess per measurement, tables.

A benchmark is a module in this folder (mlp_core.py, fit_overhead.py, data_loader.py) or one
of the workloads registered in workloads.py (mlp, convnet, ...: `workloads.benchmark(name)`
gives an object with the same attributes); either defines

    NAME, DESCRIPTION        str
    SYSTEMS                  {name: class}; the first one named "pytorch" is the reference
    config(quick) -> dict    the workload's sizes (plain JSON data)
    make_data(cfg)           -> (X, y), NumPy arrays, the same for every system
    init_params(cfg)         -> list of NumPy arrays, the same initial values for every system
    sanity(results) -> list[str]   problems found comparing the systems' losses ([] if none)
    TARGETS (optional)       {"system": {"max_ratio": r, "max_rss_mb": m}} (max_rss_mb optional)

and a system class

    System(cfg, X, y, params)    builds its model from the arrays (not timed)
    .epoch(n_batches) -> list    trains over the first n_batches batches, returns the losses
    .values(result) (optional)   turns what epoch returned into the per-batch losses, after the
                                 timing (inference keeps its outputs, the losses come after)

The runner (run.py) starts one child process per (round, system): the child builds the data,
warms up on a few batches, builds a fresh model from the same initial values, times one epoch
and reports the seconds, its losses and its own peak RSS (getrusage ru_maxrss), so that memory
is per system and one system's allocations never count against another. An epoch shorter
than MIN_TIMED_S is timed again, each time from a fresh model with the same initial values,
until the timed epochs add up to MIN_TIMED_S (at most MAX_EPOCHS of them), and the child
reports their median, so that one pause of the shared machine does not decide the time of a
short epoch (the small MLP's inference takes 25 ms). A slow spell of the machine that lasts
seconds still slows every epoch it covers: that is what the rounds are for. Systems take turns
within each round (the order rotates), so that the machine's noise is shared between them;
the ratio to PyTorch is the median over the rounds of each round's ratio (a slow spell of the
machine then slows both sides of the ratios it touches), with the rounds' min-max as spread.
"""
from __future__ import annotations

import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS_DIR = os.path.join(HERE, "results")
_MARK = "@@RESULT@@ "
MIN_TIMED_S = 0.5   # a child times epochs until they add up to this long ...
MAX_EPOCHS = 15     # ... or there are this many, and reports their median


# ---- inside the child -------------------------------------------------------------------
def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (Linux reports ru_maxrss in KiB).

    On Linux a child's ru_maxrss starts from its parent's peak at fork, which exec does not
    reset: the parent must stay small (it never imports torch or the systems), or every child
    would report at least the parent's peak.
    """
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def vm_hwm_mb() -> float | None:
    """The same peak from /proc/self/status (VmHWM, reset by exec), as a cross-check."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def blas_info() -> dict:
    """Which BLAS NumPy calls and with how many threads (threadpoolctl if present)."""
    try:
        import numpy  # noqa: F401  (loads the BLAS so that threadpoolctl sees it)
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        return {"numpy_blas": [
            f"{p.get('internal_api')} {p.get('version')}, architecture {p.get('architecture')}, "
            f"threading layer {p.get('threading_layer')}, {p.get('num_threads')} threads"
            for p in pools]}
    except ImportError:  # pragma: no cover - threadpoolctl is optional
        return {"numpy_blas": ["unknown (install threadpoolctl to see it)"]}


def child_main(bench_name: str, system: str, cfg: dict) -> dict:
    """Run one measurement of one system and return what the parent records."""
    bench = load(bench_name)
    X, y = bench.make_data(cfg)
    params = bench.init_params(cfg)
    n_batches = cfg["n"] // cfg["batch"]
    cls = bench.SYSTEMS[system]

    warm = cls(cfg, X, y, params)  # warm-up: caches, allocator, lazy imports, BLAS threads
    warm.epoch(min(cfg.get("warmup_batches", 20), n_batches))
    del warm

    epochs, cpu_s, minflt, nivcsw = [], 0.0, 0, 0
    while not epochs or (sum(epochs) < MIN_TIMED_S and len(epochs) < MAX_EPOCHS):
        model = cls(cfg, X, y, params)  # a fresh model from the same initial values
        ru0, c0 = resource.getrusage(resource.RUSAGE_SELF), time.process_time()
        t0 = time.perf_counter()
        result = model.epoch(n_batches)
        epochs.append(time.perf_counter() - t0)
        ru1, c1 = resource.getrusage(resource.RUSAGE_SELF), time.process_time()
        cpu_s, minflt = cpu_s + c1 - c0, minflt + ru1.ru_minflt - ru0.ru_minflt
        nivcsw += ru1.ru_nivcsw - ru0.ru_nivcsw
        if len(epochs) == 1:
            losses = result   # every epoch computes the same: the first one's are kept
    if hasattr(model, "values"):
        losses = model.values(losses)
    k = len(epochs)
    out = {"system": system, "seconds": statistics.median(epochs), "epochs": epochs,
           "losses": [float(v) for v in losses],
           "peak_rss_mb": peak_rss_mb(), "vm_hwm_mb": vm_hwm_mb(),
           # diagnostics per timed epoch: CPU seconds of all threads, minor page faults
           # (memory the allocator gave back to the OS and touched again), preemptions
           "cpu_s": cpu_s / k, "minflt": minflt // k, "nivcsw": nivcsw // k}
    out.update(getattr(model, "info", dict)())
    return out


# ---- in the parent ----------------------------------------------------------------------
def load(bench_name: str):
    """The benchmark `bench_name`: a workload of workloads.py, or a module of this folder."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    import workloads

    if bench_name in workloads.WORKLOADS:
        return workloads.benchmark(bench_name)
    return importlib.import_module(bench_name)


def run_child(bench_name: str, system: str, cfg: dict, timeout: float = 1800) -> dict:
    cmd = [sys.executable, os.path.join(HERE, "run.py"), "--child", bench_name, system,
           json.dumps(cfg)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK):])
    raise RuntimeError(f"{bench_name}/{system} failed (exit {proc.returncode}):\n"
                       f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def measure(bench_name: str, cfg: dict, repeats: int, systems=None, log=print,
            goals: bool = True) -> dict:
    """`repeats` rounds; every system once per round, the order rotating between rounds.
    goals=False: the benchmark's TARGETS are not checked (a configuration they are not for)."""
    bench = load(bench_name)
    names = list(systems or bench.SYSTEMS)
    runs = {s: [] for s in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for s in order:
            res = run_child(bench_name, s, cfg)
            runs[s].append(res)
            k = len(res.get("epochs", [0]))
            log(f"  round {r + 1}/{repeats}  {s:<9} {res['seconds']:7.3f} s"
                f"{f' (median of {k} epochs)' if k > 1 else ''}  "
                f"(cpu {res['cpu_s']:.3f} s, {res['minflt']} page faults)  "
                f"peak RSS {res['peak_rss_mb']:6.1f} MB")
    return summarize(bench, cfg, runs, goals)


def final_loss(losses: list, frac: float = 0.1) -> float:
    """Mean loss over the last `frac` of the epoch's batches (one batch's loss is noisy)."""
    k = max(1, int(len(losses) * frac))
    return sum(losses[-k:]) / k


def summarize(bench, cfg: dict, runs: dict, goals: bool = True) -> dict:
    rows = {}
    for s, rs in runs.items():
        secs = [r["seconds"] for r in rs]
        rows[s] = {
            "median_s": statistics.median(secs), "best_s": min(secs), "all_s": secs,
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
            "first_loss": rs[0]["losses"][0], "final_loss": final_loss(rs[0]["losses"]),
            **{k: v for k, v in rs[0].items()
               if k not in ("system", "seconds", "epochs", "losses", "peak_rss_mb", "vm_hwm_mb",
                         "cpu_s", "minflt", "nivcsw")},
            "cpu_s": [r["cpu_s"] for r in rs], "minflt": [r["minflt"] for r in rs],
            "nivcsw": [r["nivcsw"] for r in rs],
            "vm_hwm_mb": max((r["vm_hwm_mb"] or 0) for r in rs) or None,
        }
    ref = rows.get("pytorch")
    for s, row in rows.items():
        # each round's ratio to that round's PyTorch time; their median is "the" ratio
        rr = [a["seconds"] / b["seconds"] for a, b in zip(runs[s], runs["pytorch"])] if ref else []
        row["round_ratios"] = rr
        row["ratio"] = statistics.median(rr) if rr else None
        row["ratio_min"], row["ratio_max"] = (min(rr), max(rr)) if rr else (None, None)
        row["ratio_of_medians"] = row["median_s"] / ref["median_s"] if ref else None
        row["ratio_best"] = row["best_s"] / ref["best_s"] if ref else None
    problems = bench.sanity({s: rs[0] for s, rs in runs.items()})
    targets = {}
    for s, t in getattr(bench, "TARGETS", {}).items() if goals else ():
        if s in rows and ref:
            ok_time = rows[s]["ratio"] <= t["max_ratio"]
            ok_rss = rows[s]["peak_rss_mb"] <= t.get("max_rss_mb", float("inf"))
            targets[s] = {**t, "ratio": rows[s]["ratio"], "ratio_min": rows[s]["ratio_min"],
                          "ratio_max": rows[s]["ratio_max"], "rss": rows[s]["peak_rss_mb"],
                          "met": ok_time and ok_rss}
    return {"benchmark": bench.NAME, "description": bench.DESCRIPTION, "config": cfg,
            "rows": rows, "sanity_problems": problems, "targets": targets}


def environment() -> dict:
    import numpy

    env = {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "python": platform.python_version(),
           "numpy": numpy.__version__, "cpu_count": os.cpu_count(),
           "machine": platform.machine(), "processor": _cpu_model()}
    env.update(blas_info())
    try:  # the version only: importing torch here would inflate the children's ru_maxrss
        from importlib.metadata import PackageNotFoundError, version

        env["torch"] = version("torch")
    except PackageNotFoundError:  # pragma: no cover - torch is optional
        env["torch"] = None
    env["torch_config"] = torch_config() if env["torch"] else []
    return env


_TORCH_CONFIG = """
import re, torch
for line in torch.__config__.show().splitlines():
    line = line.strip().lstrip("- ")
    if line.startswith("Build settings"):
        keys = ("BLAS_INFO", "USE_MKL", "USE_MKLDNN", "USE_OPENMP")
        pairs = re.split(r",\\s*", line.split(":", 1)[1])
        print(", ".join(kv.strip() for kv in pairs if kv.strip().split("=")[0] in keys))
    elif re.search(r"MKL|Math Kernel Library|oneDNN|OpenMP", line, re.I):
        print(line)
backend = [ln for ln in torch.__config__.parallel_info().splitlines() if "parallel backend" in ln]
print(f"{torch.get_num_threads()} intra-op threads, {torch.get_num_interop_threads()} inter-op threads; "
      + "; ".join(ln.strip() for ln in backend))
"""


def torch_config() -> list:
    """PyTorch's build lines that name MKL, oneDNN (MKLDNN) and OpenMP, and its threads, read in
    a child process: importing torch here would raise every later child's ru_maxrss."""
    try:
        proc = subprocess.run([sys.executable, "-c", _TORCH_CONFIG], check=False,
                              capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return [f"unknown ({e})"]
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    return lines if proc.returncode == 0 else [f"unknown (exit {proc.returncode})"]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _spread(r: dict) -> str:
    return "" if r.get("ratio_min") is None else f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f}"


def _md(head, rows) -> str:
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    lines += [" | ".join(row) for row in rows]
    return "\n".join("| " + ln + " |" for ln in lines)


def table(summary: dict) -> str:
    """One benchmark: a row per system (the ratio is the median of the rounds' ratios)."""
    head = ("system", "median s/epoch", "best s/epoch", "x PyTorch", "spread", "peak RSS MB",
            "final loss")
    return _md(head, [(s, f"{r['median_s']:.3f}", f"{r['best_s']:.3f}",
                       "" if r["ratio"] is None else f"{r['ratio']:.2f}", _spread(r),
                       f"{r['peak_rss_mb']:.0f}", f"{r['final_loss']:.4f}")
                      for s, r in summary["rows"].items()])


def summary_rows(summary: dict) -> list:
    """The systems with a goal (or, with none, every system but PyTorch): (system, row, target)."""
    targets = summary["targets"]
    systems = list(targets) or [s for s in summary["rows"] if s != "pytorch"]
    return [(s, summary["rows"][s], targets.get(s)) for s in systems]


def summary_table(summaries: list) -> str:
    """All benchmarks run, one row per system with a goal, in Markdown for a README."""
    head = ("workload", "gradwise / PyTorch time (median of rounds)", "spread (min-max)",
            "goal", "met")
    rows = []
    for sm in summaries:
        for s, r, t in summary_rows(sm):
            rows.append((sm["benchmark"] + ("" if s == "gradwise" else f" ({s})"),
                         "-" if r["ratio"] is None else f"{r['ratio']:.2f}", _spread(r) or "-",
                         f"<= {t['max_ratio']}" if t else "-",
                         ("met" if t["met"] else "NOT met") if t else "-"))
    return _md(head, rows)


def save(payload: dict, name: str) -> str:
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    with open(path, "w") as f:
        json.dump(payload, f, indent=2)
    return path


def emit(result: dict) -> None:
    """The child's one line of output that the parent parses."""
    print(_MARK + json.dumps(result), flush=True)
