"""The benchmark workloads (benchmarks/workloads.py) and the harness's ratios: the nine
workloads in the goals' order with their goals, the same parameter shapes in the stand-in,
gradwise and PyTorch, both systems agreeing on a few batches, and the ratio as the median of
the rounds' ratios. Seconds of work: nothing is timed here."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))

import _harness
import run
import workloads

TABLE = {"mlp": 0.85, "mlp_wide": 1.1, "convnet": 1.0, "convnet_b32": 1.1, "convnet_b256": 1.1,
         "lenet5": 1.1, "infer_mlp": 1.0, "infer_lenet5": 0.9, "infer_convnet": 1.0}


def test_the_default_run_is_the_goals_table_in_order():
    assert run.DEFAULT == list(TABLE)
    for name, goal in TABLE.items():
        bench = _harness.load(name)
        assert bench.NAME == name
        assert bench.TARGETS == {"gradwise": {"max_ratio": goal}}
        assert list(bench.SYSTEMS)[:2] == ["gradwise", "pytorch"]   # + numpy: below
    assert {"mlp_core", "fit_overhead", "data_loader"} <= set(run.BENCHMARKS)
    assert _harness.load("mlp_core").NAME == "mlp_core"


@pytest.mark.parametrize("arch", list(workloads.ARCHS))
def test_parameter_shapes_match_gradwise_and_torch(arch):
    from gradwise import nn

    shapes = workloads.ARCHS[arch](workloads._Shapes())
    assert [tuple(p.shape) for p in workloads.ARCHS[arch](nn).parameters()] == shapes
    torch = pytest.importorskip("torch")
    assert [tuple(p.shape) for p in workloads.ARCHS[arch](torch.nn).parameters()] == shapes


def test_data_are_normalized_and_float32():
    cfg = {**workloads.config("convnet", quick=True), "n": 5000}
    X, y = workloads.make_data(cfg)
    assert X.shape == (5000, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    assert abs(float(X.mean())) < 0.05 and abs(float(X.std()) - 1) < 0.05
    X, _ = workloads.make_data({**workloads.config("mlp", quick=True), "n": 300})
    assert X.shape == (300, 784)


@pytest.mark.parametrize("name", list(TABLE))
def test_both_systems_agree_on_a_few_batches(name):
    pytest.importorskip("torch")
    bench = _harness.load(name)
    cfg = bench.config(quick=True)
    cfg["n"] = 3 * cfg["batch"]
    X, y = bench.make_data(cfg)
    params = bench.init_params(cfg)
    results = {}
    for system, cls in bench.SYSTEMS.items():
        model = cls(cfg, X, y, params)
        results[system] = {"losses": [float(v) for v in model.values(model.epoch(3))]}
        assert len(results[system]["losses"]) == 3
    assert bench.sanity(results) == []
    for system in results:   # gradwise, and plain NumPy where it runs
        np.testing.assert_allclose(results[system]["losses"], results["pytorch"]["losses"],
                                   rtol=1e-4)


def test_plain_numpy_runs_beside_the_mlp_inference_only():
    """The floor (plain NumPy) is a third system of the MLP's inference: its logits are
    gradwise's to float32 rounding, batch by batch; the other workloads have two systems."""
    for name in TABLE:
        assert ("numpy" in _harness.load(name).SYSTEMS) == (name == "infer_mlp")
    bench = _harness.load("infer_mlp")
    cfg = {**bench.config(quick=True), "n": 200}
    X, y = bench.make_data(cfg)
    params = bench.init_params(cfg)
    floor = bench.SYSTEMS["numpy"](cfg, X, y, params).epoch(2)
    ours = bench.SYSTEMS["gradwise"](cfg, X, y, params).epoch(2)
    assert [z.shape for z in floor] == [(100, 10)] * 2
    for a, b in zip(floor, ours):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-5, atol=1e-5)


def test_ratio_is_the_median_of_the_rounds_ratios():
    bench = _harness.load("mlp")

    def run_(s):
        return {"seconds": s, "losses": [2.3, 1.0], "peak_rss_mb": 100.0, "vm_hwm_mb": None,
                "cpu_s": s, "minflt": 0, "nivcsw": 0}

    runs = {"gradwise": [run_(1.0), run_(3.0), run_(2.0)],
            "pytorch": [run_(2.0), run_(2.0), run_(4.0)]}
    summary = _harness.summarize(bench, bench.config(quick=True), runs)
    row = summary["rows"]["gradwise"]
    assert row["round_ratios"] == [0.5, 1.5, 0.5]
    assert row["ratio"] == 0.5 and (row["ratio_min"], row["ratio_max"]) == (0.5, 1.5)
    assert row["ratio_of_medians"] == 1.0  # not the reported ratio
    assert summary["targets"]["gradwise"]["met"]
    table = _harness.summary_table([summary])
    assert "| mlp | 0.50 | 0.50-1.50 | <= 0.85 | met |" in table


def test_another_batch_size_is_a_run_without_goals():
    cfg = workloads.config("convnet", batch=1)
    assert (cfg["batch"], cfg["n"]) == (1, 1000)
    assert workloads.config("mlp", batch=512)["n"] == 51_200
    assert workloads.config("convnet", quick=True, batch=256)["n"] == 2_000
    assert workloads.config("convnet")["batch"] == 100
    bench = _harness.load("convnet")
    runs = {s: [{"seconds": 1.0, "losses": [2.3, 1.0], "peak_rss_mb": 100.0, "vm_hwm_mb": None,
                 "cpu_s": 1.0, "minflt": 0, "nivcsw": 0}] for s in bench.SYSTEMS}
    assert _harness.summarize(bench, cfg, runs, goals=False)["targets"] == {}
    assert "gradwise" in _harness.summarize(bench, cfg, runs)["targets"]
    for argv in (["mlp_core", "--batch", "1"], ["convnet", "--batch", "0"]):
        with pytest.raises(SystemExit):
            run.main(argv)
