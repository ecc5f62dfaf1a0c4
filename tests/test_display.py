"""Notebook display: History.plot, the throttled LivePlot, the one-bar progress mode and the
summary as an HTML table (a notebook is stood in for by its display function and by
viz.in_notebook)."""
import io

import matplotlib
import numpy as np
import pytest

import gradwise as gw
import gradwise.functional as F
from gradwise import nn, optim, viz
from gradwise.train import Callback, LivePlot, ProgressBar, fit

matplotlib.use("Agg")


def _run(epochs=3, callbacks=(), verbose=0):
    gw.manual_seed(0)
    X = np.random.default_rng(0).standard_normal((64, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    return fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), (X[:48], y[:48]),
               val_data=(X[48:], y[48:]), epochs=epochs, batch_size=16, callbacks=list(callbacks),
               verbose=verbose)


def test_history_plot_draws_train_and_validation_per_quantity(tmp_path):
    history = _run()
    fig = history.plot(tmp_path / "curves.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax in fig.axes:
        train, val = ax.get_lines()
        np.testing.assert_allclose(train.get_xdata(), [1, 2, 3])
        assert train.get_linestyle() == "-" and val.get_linestyle() == "--"
    np.testing.assert_allclose(fig.axes[0].get_lines()[1].get_ydata(), history["val_loss"])
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="no curve named"):
        history.plot(keys=["f1"])


class _Display:
    """IPython.display.display(fig, display_id=True) and the handle's update(fig)."""

    def __init__(self):
        self.shown, self.updates = 0, 0

    def __call__(self, fig, display_id=False):
        assert display_id is True
        self.shown += 1
        return self

    def update(self, fig):
        self.updates += 1


def test_liveplot_updates_one_display_in_place():
    display = _Display()
    live = LivePlot(every=0.0, display=display)
    history = _run(epochs=4, callbacks=[live])
    assert (display.shown, display.updates) == (1, 3)     # one figure, redrawn every epoch
    assert live.record.history == history.history         # it drew the numbers fit returned


def test_liveplot_is_throttled_and_draws_the_end():
    display = _Display()
    live = LivePlot(every=3600.0, display=display)
    _run(epochs=5, callbacks=[live])
    assert live.drawings == 2 and (display.shown, display.updates) == (1, 1)   # first epoch, then the end


def test_liveplot_outside_a_notebook_rewrites_a_png(tmp_path):
    with pytest.raises(ValueError, match="give path="):
        LivePlot()
    _run(epochs=2, callbacks=[LivePlot(every=0.0, path=tmp_path / "live.png")])
    assert (tmp_path / "live.png").read_bytes()[:4] == b"\x89PNG"


class _Bars(Callback):
    def __init__(self, bar):
        self.progress, self.seen = bar, []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(self.progress.bar)


def test_one_bar_serves_the_whole_run():
    out = io.StringIO()
    bar = ProgressBar(1, file=out, one_bar=True)
    watch = _Bars(bar)
    _run(epochs=3, callbacks=[bar, watch], verbose=1)
    assert watch.seen[0] is not None and all(b is watch.seen[0] for b in watch.seen)
    assert bar.bar is None                                 # closed when training ends
    assert "Epoch 3/3" in out.getvalue()


def test_a_bar_per_epoch_outside_a_notebook():
    bar = ProgressBar(1, file=io.StringIO())
    assert bar.one_bar is False                            # viz.in_notebook() is False here
    watch = _Bars(bar)
    _run(epochs=2, callbacks=[bar, watch], verbose=1)
    assert watch.seen == [None, None]                      # each epoch's bar closed at its end


def test_summary_is_an_html_table_in_a_notebook(monkeypatch, capsys):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    table = model.summary((4,))
    assert "Total params: 23" in capsys.readouterr().out    # printed outside a notebook
    html = table._repr_html_()
    assert html.count("<tr>") == 1 + 3 and "Total params: 23" in html and "(None, 3)" in html
    monkeypatch.setattr(viz, "in_notebook", lambda: True)
    again = model.summary((4,))
    assert capsys.readouterr().out == "" and again == table  # the returned table shows itself
