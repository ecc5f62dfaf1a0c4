"""Shared machinery of the benchmarks: data, timing, one subprocess per measurement, tables.

A benchmark is a module in this folder (mlp.py, later cnn.py, ...) that defines

    NAME, DESCRIPTION        str
    SYSTEMS                  {name: class}; the first one named "pytorch" is the reference
    config(quick) -> dict    the workload's sizes (plain JSON data)
    make_data(cfg)           -> (X, y), NumPy arrays, the same for every system
    init_params(cfg)         -> list of NumPy arrays, the same initial values for every system
    sanity(results) -> list[str]   problems found comparing the systems' losses ([] if none)
    TARGETS (optional)       {"system": {"max_ratio": r, "max_rss_mb": m}}

and a system class

    System(cfg, X, y, params)    builds its model from the arrays (not timed)
    .epoch(n_batches) -> list    trains over the first n_batches batches, returns the losses

The runner (run.py) starts one child process per (round, system): the child builds the data,
warms up on a few batches, builds a fresh model from the same initial values, times one epoch
and reports the seconds, its losses and its own peak RSS (getrusage ru_maxrss), so that memory
is per system and one system's allocations never count against another. Systems take turns
within each round (the order rotates), so that the machine's noise is shared between them.
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
        from threadpoolctl import threadpool_info

        import numpy  # noqa: F401  (loads the BLAS so that threadpoolctl sees it)

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        return {"numpy_blas": [
            f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')}), "
            f"{p.get('num_threads')} threads" for p in pools]}
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

    model = cls(cfg, X, y, params)  # a fresh model from the same initial values
    ru0, c0 = resource.getrusage(resource.RUSAGE_SELF), time.process_time()
    t0 = time.perf_counter()
    losses = model.epoch(n_batches)
    seconds = time.perf_counter() - t0
    ru1, c1 = resource.getrusage(resource.RUSAGE_SELF), time.process_time()
    out = {"system": system, "seconds": seconds, "losses": [float(v) for v in losses],
           "peak_rss_mb": peak_rss_mb(), "vm_hwm_mb": vm_hwm_mb(),
           # diagnostics of the timed epoch: CPU seconds of all threads, minor page faults
           # (memory the allocator gave back to the OS and touched again), preemptions
           "cpu_s": c1 - c0, "minflt": ru1.ru_minflt - ru0.ru_minflt,
           "nivcsw": ru1.ru_nivcsw - ru0.ru_nivcsw}
    out.update(getattr(model, "info", lambda: {})())
    return out


# ---- in the parent ----------------------------------------------------------------------
def load(bench_name: str):
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    return importlib.import_module(bench_name)


def run_child(bench_name: str, system: str, cfg: dict, timeout: float = 1800) -> dict:
    cmd = [sys.executable, os.path.join(HERE, "run.py"), "--child", bench_name, system,
           json.dumps(cfg)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK):])
    raise RuntimeError(f"{bench_name}/{system} failed (exit {proc.returncode}):\n"
                       f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def measure(bench_name: str, cfg: dict, repeats: int, systems=None, log=print) -> dict:
    """`repeats` rounds; every system once per round, the order rotating between rounds."""
    bench = load(bench_name)
    names = list(systems or bench.SYSTEMS)
    runs = {s: [] for s in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for s in order:
            res = run_child(bench_name, s, cfg)
            runs[s].append(res)
            log(f"  round {r + 1}/{repeats}  {s:<9} {res['seconds']:7.3f} s  "
                f"(cpu {res['cpu_s']:.3f} s, {res['minflt']} page faults)  "
                f"peak RSS {res['peak_rss_mb']:6.1f} MB")
    return summarize(bench, cfg, runs)


def final_loss(losses: list, frac: float = 0.1) -> float:
    """Mean loss over the last `frac` of the epoch's batches (one batch's loss is noisy)."""
    k = max(1, int(len(losses) * frac))
    return sum(losses[-k:]) / k


def summarize(bench, cfg: dict, runs: dict) -> dict:
    rows = {}
    for s, rs in runs.items():
        secs = [r["seconds"] for r in rs]
        rows[s] = {
            "median_s": statistics.median(secs), "best_s": min(secs), "all_s": secs,
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
            "first_loss": rs[0]["losses"][0], "final_loss": final_loss(rs[0]["losses"]),
            **{k: v for k, v in rs[0].items()
               if k not in ("system", "seconds", "losses", "peak_rss_mb", "vm_hwm_mb", "cpu_s",
                         "minflt", "nivcsw")},
            "cpu_s": [r["cpu_s"] for r in rs], "minflt": [r["minflt"] for r in rs],
            "nivcsw": [r["nivcsw"] for r in rs],
            "vm_hwm_mb": max((r["vm_hwm_mb"] or 0) for r in rs) or None,
        }
    ref = rows.get("pytorch")
    for s, row in rows.items():
        row["ratio_median"] = row["median_s"] / ref["median_s"] if ref else None
        row["ratio_best"] = row["best_s"] / ref["best_s"] if ref else None
    problems = bench.sanity({s: rs[0] for s, rs in runs.items()})
    targets = {}
    for s, t in getattr(bench, "TARGETS", {}).items():
        if s in rows and ref:
            ok_time = rows[s]["ratio_median"] <= t["max_ratio"]
            ok_rss = rows[s]["peak_rss_mb"] <= t["max_rss_mb"]
            targets[s] = {**t, "ratio": rows[s]["ratio_median"], "rss": rows[s]["peak_rss_mb"],
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
        from importlib.metadata import version

        env["torch"] = version("torch")
    except Exception:  # pragma: no cover - torch is optional
        env["torch"] = None
    return env


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def table(summary: dict) -> str:
    head = ("system", "median s/epoch", "best s/epoch", "x PyTorch", "peak RSS MB", "final loss")
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for s, r in summary["rows"].items():
        ratio = "" if r["ratio_median"] is None else f"{r['ratio_median']:.2f}"
        lines.append(" | ".join((s, f"{r['median_s']:.3f}", f"{r['best_s']:.3f}", ratio,
                                 f"{r['peak_rss_mb']:.0f}", f"{r['final_loss']:.4f}")))
    return "\n".join("| " + ln + " |" for ln in lines)


def save(payload: dict, name: str) -> str:
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    with open(path, "w") as f:
        json.dump(payload, f, indent=2)
    return path


def emit(result: dict) -> None:
    """The child's one line of output that the parent parses."""
    print(_MARK + json.dumps(result), flush=True)
