"""Convolution and pooling: output-size rule, errors, layers, and differential tests against
PyTorch (stride 1 and 2, padding 0/1/same, odd sizes, batch 1, dilation)."""
import numpy as np
import pytest

import gradwise as gw
import gradwise.functional as F
from gradwise import nn

torch = pytest.importorskip("torch")
tF = torch.nn.functional

CONV_CASES = [
    # (N, C, H, W), (F, f_h, f_w), stride, padding, dilation
    ((2, 3, 7, 7), (4, 3, 3), 1, 0, 1),
    ((2, 3, 7, 7), (4, 3, 3), 2, 1, 1),
    ((1, 2, 9, 8), (3, 3, 3), 1, "same", 1),
    ((1, 1, 5, 5), (2, 5, 5), 1, "valid", 1),
    ((3, 2, 11, 9), (5, 3, 2), 2, 0, 1),
    ((2, 2, 10, 10), (3, 3, 3), 1, 2, 2),
    ((1, 4, 6, 7), (6, 1, 1), 1, 0, 1),          # 1x1 convolution: a channel bottleneck
    ((2, 3, 8, 8), (2, 4, 4), 2, (1, 2), 1),
]


@pytest.mark.parametrize("x_shape,w_shape,stride,padding,dilation", CONV_CASES)
def test_conv2d_matches_torch_forward_and_backward(x_shape, w_shape, stride, padding, dilation):
    rng = np.random.default_rng(0)
    Fo, fh, fw = w_shape
    X = rng.normal(size=x_shape)
    W = rng.normal(size=(Fo, x_shape[1], fh, fw))
    b = rng.normal(size=Fo)
    x, w, bb = (gw.tensor(a, requires_grad=True) for a in (X, W, b))
    y = F.conv2d(x, w, bb, stride, padding, dilation)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
    ty = tF.conv2d(tx, tw, tb, stride, padding, dilation)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    dY = rng.normal(size=y.shape)
    y.backward(dY)
    ty.backward(torch.tensor(dY))
    for g, tg in ((x, tx), (w, tw), (bb, tb)):
        np.testing.assert_allclose(g.grad, tg.grad.numpy(), rtol=1e-9, atol=1e-10)


def test_conv2d_float32_stays_float32():
    x = gw.randn(2, 3, 8, 8)
    w = gw.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert y.dtype == np.float32
    y.sum().backward()
    assert w.grad.dtype == np.float32


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("shape,k,s,p", [
    ((2, 3, 8, 8), 2, 2, 0), ((1, 2, 7, 7), 3, 2, 1), ((2, 1, 9, 6), 3, 1, 0), ((1, 1, 5, 5), 2, 1, 1),
])
def test_pooling_matches_torch(kind, shape, k, s, p):
    rng = np.random.default_rng(1)
    X = rng.normal(size=shape)
    x = gw.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    y = (F.max_pool2d if kind == "max" else F.avg_pool2d)(x, k, s, p)
    ty = (tF.max_pool2d if kind == "max" else tF.avg_pool2d)(tx, k, s, p)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12)
    dY = rng.normal(size=y.shape)
    y.backward(dY)
    ty.backward(torch.tensor(dY))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_max_pool_ties_send_the_gradient_to_the_first_maximum_like_torch():
    X = np.zeros((1, 1, 4, 4))
    x = gw.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    tF.max_pool2d(tx, 2).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    assert x.grad.sum() == 4


def test_output_size_rule_and_impossible_configuration():
    x = gw.randn(1, 1, 5, 5)
    w = gw.randn(1, 1, 3, 3)
    assert F.conv2d(x, w, stride=2, padding=1).shape == (1, 1, 3, 3)    # floor((5+2-3)/2)+1
    with pytest.raises(ValueError, match=r"does not fit.*floor\(\(n \+ 2p - d\(f - 1\) - 1\) / s\) \+ 1"):
        F.conv2d(x, gw.randn(1, 1, 7, 7))
    with pytest.raises(ValueError, match="3 channels.*expect 1|input has 3 channels"):
        F.conv2d(gw.randn(1, 3, 5, 5), w)
    with pytest.raises(ValueError, match="'same' needs stride 1"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        F.max_pool2d(gw.randn(5, 5), 2)


def test_zero_pad_is_the_course_helper():
    x = gw.tensor(np.ones((4, 3, 3, 2)), requires_grad=True)
    y = F.zero_pad(x, 2)
    assert y.shape == (4, 3, 7, 6)
    assert y.data[:, :, :2].sum() == 0 and y.data[:, :, 2:5, 2:4].sum() == 4 * 3 * 3 * 2
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones_like(x.data))


def test_conv_layers_and_shapes():
    gw.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
        nn.ZeroPad2d(1), nn.Conv2d(6, 8, 3), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(), nn.Linear(8, 10),
    )
    x = gw.randn(3, 1, 28, 28)
    y = model(x)
    assert y.shape == (3, 10)
    F.cross_entropy(y, gw.tensor([1, 2, 3])).backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    text = model.summary((1, 28, 28), print_fn=None)
    assert "(None, 6, 28, 28)" in text and "(None, 8, 1, 1)" in text
    with pytest.raises(ValueError, match=r"Conv2d\(1, 6.*\(N, 1, H, W\).*\(3, 2, 28, 28\)"):
        model[0](gw.randn(3, 2, 28, 28))


def test_batchnorm2d_statistics_are_per_channel_and_match_torch():
    rng = np.random.default_rng(2)
    X = rng.normal(3, 2, size=(4, 3, 5, 5))
    bn = nn.BatchNorm2d(3, dtype=np.float64)
    tbn = torch.nn.BatchNorm2d(3, dtype=torch.float64)
    x = gw.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    y, ty = bn(x), tbn(tx)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(y.data.mean(axis=(0, 2, 3)), 0, atol=1e-10)  # per channel
    dY = rng.normal(size=X.shape)
    y.backward(dY)
    ty.backward(torch.tensor(dY))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(bn.running_var.data, tbn.running_var.numpy(), rtol=1e-10)
    bn.eval(), tbn.eval()
    np.testing.assert_allclose(bn(x).data, tbn(tx).detach().numpy(), rtol=1e-10)


def test_global_average_pooling_matches_torch_adaptive_avg_pool():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2, 5, 7, 6))
    x, tx = gw.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    y, ty = F.global_avg_pool2d(x), tF.adaptive_avg_pool2d(tx, 1)
    assert y.shape == (2, 5, 1, 1)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12)
    dY = rng.normal(size=y.shape)
    y.backward(dY)
    ty.backward(torch.tensor(dY))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 5, 1, 1)
    with pytest.raises(ValueError, match="only output_size"):
        nn.AdaptiveAvgPool2d((2, 2))


@pytest.mark.parametrize("pad,torch_pad", [(1, (1, 1, 1, 1)), ((2, 0), (0, 0, 2, 2))])
def test_zero_pad_matches_torch_pad(pad, torch_pad):
    X = np.random.default_rng(4).normal(size=(2, 3, 4, 5))
    x, tx = gw.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    y, ty = F.zero_pad(x, pad), tF.pad(tx, torch_pad)
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    dY = np.random.default_rng(5).normal(size=y.shape)
    y.backward(dY)
    ty.backward(torch.tensor(dY))
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    np.testing.assert_array_equal(nn.ZeroPad2d(pad)(x).data, y.data)


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 2, 1), (3, 3, 0), ((2, 3), (2, 1), (1, 0))])
def test_max_pool_after_relu_ties_and_float32_match_torch(k, s, p):
    """After a ReLU whole windows are 0 (ties everywhere): the gradient goes to the first
    zero of each window, as PyTorch. float32 on the sizes of a real network."""
    rng = np.random.default_rng(6)
    X = np.maximum(rng.normal(size=(8, 6, 24, 23)), 0).astype(np.float32)
    x, tx = gw.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    y, ty = F.max_pool2d(x, k, s, p), tF.max_pool2d(tx, k, s, p)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    dY = rng.normal(size=y.shape).astype(np.float32)
    y.backward(dY)
    ty.backward(torch.tensor(dY))
    # overlapping windows add their shares in another order: equal up to float32 rounding
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 2, 1), (5, 1, 2)])
def test_avg_pool_float32_on_network_sizes_matches_torch(k, s, p):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(8, 6, 28, 27)).astype(np.float32)
    x, tx = gw.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    y, ty = F.avg_pool2d(x, k, s, p), tF.avg_pool2d(tx, k, s, p)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    dY = rng.normal(size=y.shape).astype(np.float32)
    y.backward(dY)
    ty.backward(torch.tensor(dY))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("x_shape,w_shape,stride,padding,dilation", [
    ((16, 1, 28, 28), (30, 5, 5), 1, 0, 1),       # SimpleConvNet's layer
    ((16, 6, 14, 14), (16, 5, 5), 1, 0, 1),       # LeNet-5's second layer
    ((4, 8, 17, 17), (12, 3, 3), 2, 1, 1),
    ((4, 8, 16, 16), (12, 3, 3), 1, "same", 2),
])
def test_conv2d_float32_on_network_sizes_matches_torch(x_shape, w_shape, stride, padding, dilation):
    rng = np.random.default_rng(8)
    X = rng.normal(size=x_shape).astype(np.float32)
    W = (rng.normal(size=(w_shape[0], x_shape[1], *w_shape[1:])) * 0.1).astype(np.float32)
    b = rng.normal(size=w_shape[0]).astype(np.float32)
    x, w, bb = (gw.tensor(a, requires_grad=True) for a in (X, W, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
    y = F.conv2d(x, w, bb, stride, padding, dilation)
    ty = tF.conv2d(tx, tw, tb, stride, padding, dilation)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    dY = rng.normal(size=y.shape).astype(np.float32)
    y.backward(dY)
    ty.backward(torch.tensor(dY))
    for g, tg in ((x, tx), (w, tw), (bb, tb)):
        assert g.grad.dtype == np.float32
        np.testing.assert_allclose(g.grad, tg.grad.numpy(), rtol=1e-3, atol=1e-3)


# ---- threaded kernels: the same numbers on any number of threads ---------------------------
@pytest.fixture
def threads():
    """Set gradwise's thread count inside a test; the previous count comes back after."""
    before = gw.backend.get_num_threads()
    yield gw.backend.set_num_threads
    gw.backend.set_num_threads(before)


@pytest.fixture
def small_chunks(monkeypatch):
    """Let the threaded kernels split the small arrays of a test (they would not, to save
    the hand-off, below tens of thousands of numbers)."""
    from gradwise.ops import activation

    monkeypatch.setattr(activation, "_MIN_CHUNK", 1)
    monkeypatch.setattr(activation, "_GRAIN", 8)


def test_set_num_threads_validates_and_round_trips(threads):
    threads(3)
    assert gw.backend.get_num_threads() == 3
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="set_num_threads"):
            gw.backend.set_num_threads(bad)
    assert gw.backend.get_num_threads() == 3


def test_default_num_threads_reads_the_environment(monkeypatch):
    monkeypatch.setenv("GRADWISE_NUM_THREADS", "5")
    assert gw.backend._default_num_threads() == 5
    monkeypatch.setenv("GRADWISE_NUM_THREADS", "zero")
    with pytest.raises(ValueError, match="GRADWISE_NUM_THREADS"):
        gw.backend._default_num_threads()
    monkeypatch.delenv("GRADWISE_NUM_THREADS")
    assert 1 <= gw.backend._default_num_threads() <= 8


@pytest.mark.parametrize("n,grain,min_chunk", [(1, 1, 1), (7, 1, 1), (100, 8, 1), (1000, 64, 100),
                                               (10, 1, 6)])
@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_parallel_for_covers_the_range_once_on_grain_edges(threads, n, grain, min_chunk, n_threads):
    threads(n_threads)
    seen = []
    gw.backend.parallel_for(lambda i, j: seen.append((i, j)), n, grain=grain, min_chunk=min_chunk)
    seen.sort()
    assert seen[0][0] == 0 and seen[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(seen, seen[1:]))        # no gap, no overlap
    assert all(i % grain == 0 for i, _ in seen)
    assert all(j - i >= min(min_chunk, n) for i, j in seen[:-1])
    if n_threads == 1 or n < 2 * max(grain, min_chunk):
        assert seen == [(0, n)]


def test_parallel_for_runs_chunks_on_several_threads_and_reraises(threads):
    import threading
    import time

    threads(2)
    names = set()

    def work(i, j):
        names.add(threading.current_thread().name)
        time.sleep(0.02)  # long enough that the helper takes a chunk

    gw.backend.parallel_for(work, 4)
    assert len(names) == 2

    def fail(i, j):
        if i > 0:
            raise RuntimeError(f"chunk {i}")

    with pytest.raises(RuntimeError, match="chunk"):
        gw.backend.parallel_for(fail, 4)
    inner = []
    gw.backend.parallel_for(lambda i, j: gw.backend.parallel_for(
        lambda a, b: inner.append((a, b)), 4), 2)
    assert sorted(inner) == [(0, 4), (0, 4)]  # a kernel inside a chunk runs on its thread


CONV_THREAD_CASES = [
    # (N, C, H, W), (F, f_h, f_w), stride, padding, dilation, bias
    ((7, 1, 12, 12), (5, 5, 5), 1, 0, 1, True),    # SimpleConvNet's layer, odd batch
    ((5, 1, 12, 12), (3, 5, 5), 1, 2, 1, True),    # LeNet-5's padded first layer
    ((6, 3, 9, 8), (4, 3, 3), 2, 1, 1, False),
    ((3, 2, 10, 10), (3, 3, 3), 1, 2, 2, True),
]


@pytest.mark.parametrize("x_shape,w_shape,stride,padding,dilation,bias", CONV_THREAD_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threaded_conv2d_is_bit_identical_and_keeps_gradients(threads, small_chunks, x_shape,
                                                              w_shape, stride, padding, dilation,
                                                              bias, dtype):
    rng = np.random.default_rng(3)
    X = rng.normal(size=x_shape).astype(dtype)
    W = rng.normal(size=(w_shape[0], x_shape[1], *w_shape[1:])).astype(dtype)
    b = rng.normal(size=w_shape[0]).astype(dtype) if bias else None
    results = []
    for n in (1, 2, 3):
        threads(n)
        x, w = gw.tensor(X, requires_grad=True), gw.tensor(W, requires_grad=True)
        bb = gw.tensor(b, requires_grad=True) if bias else None
        y = F.conv2d(x, w, bb, stride, padding, dilation)
        (y * y).sum().backward()
        with gw.no_grad():
            y_infer = F.conv2d(gw.tensor(X), gw.tensor(W), None if b is None else gw.tensor(b),
                               stride, padding, dilation)
        results.append([y.data, y_infer.data, x.grad, w.grad] + ([bb.grad] if bias else []))
        assert y.dtype == dtype and x.grad.dtype == dtype
    for other in results[1:]:
        for a, c in zip(results[0], other):
            np.testing.assert_array_equal(a, c)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_array_equal(results[0][0], results[0][1])  # no_grad: the same algorithm
    tb = None if b is None else torch.tensor(b)
    ty = tF.conv2d(torch.tensor(X), torch.tensor(W), tb, stride, padding, dilation)
    np.testing.assert_allclose(results[1][0], ty.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("shape,k,s,p", [((7, 3, 8, 8), 2, 2, 0), ((5, 2, 7, 7), 3, 2, 1),
                                          ((4, 1, 9, 6), 3, 1, 0)])
def test_threaded_pooling_is_bit_identical(threads, small_chunks, kind, shape, k, s, p):
    rng = np.random.default_rng(4)
    X = rng.normal(size=shape).astype(np.float32)
    X[0, 0, :2, :2] = 1.0  # a tie: the gradient goes to the first maximum either way
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    results = []
    for n in (1, 2, 3):
        threads(n)
        x = gw.tensor(X, requires_grad=True)
        y = pool(x, k, s, p)
        (y * y).sum().backward()
        with gw.no_grad():  # inference: the same kernels, the same numbers
            np.testing.assert_array_equal(pool(gw.tensor(X), k, s, p).data, y.data)
        results.append((y.data, x.grad))
    for y, g in results[1:]:
        np.testing.assert_array_equal(y, results[0][0])
        np.testing.assert_array_equal(g, results[0][1])
    tpool = tF.max_pool2d if kind == "max" else tF.avg_pool2d
    np.testing.assert_allclose(results[0][0], tpool(torch.tensor(X), k, s, p).numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("act", ["relu", "tanh"])
@pytest.mark.parametrize("shape", [(3, 5, 7, 11), (1000,), (9,), (), (50, 64)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threaded_activations_are_bit_identical_to_numpy(threads, small_chunks, act, shape, dtype):
    rng = np.random.default_rng(5)
    Z = rng.normal(size=shape).astype(dtype)
    if Z.size > 3:
        Z.reshape(-1)[:3] = [0.0, -0.0, np.nan]  # ReLU passes NaN on, as np.maximum and PyTorch
    expected = np.maximum(Z, 0) if act == "relu" else np.tanh(Z)
    for n in (1, 2, 3):
        threads(n)
        with gw.no_grad():  # inference: split over the threads
            np.testing.assert_array_equal(getattr(F, act)(gw.tensor(Z)).data, expected)
        z = gw.tensor(Z, requires_grad=True)
        a = getattr(F, act)(z)
        np.testing.assert_array_equal(a.data, expected)
        assert a.dtype == dtype
        a.backward(np.ones(shape, dtype))
        d = (Z > 0).astype(dtype) if act == "relu" else 1 - expected * expected
        np.testing.assert_array_equal(z.grad, d)


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_activations_on_strided_and_integer_inputs(threads, small_chunks, act):
    threads(2)
    Z = np.random.default_rng(6).normal(size=(40, 30)).astype(np.float32)
    for view in (Z.T, Z[:, ::2]):          # not contiguous: computed at once, same numbers
        expected = np.maximum(view, 0) if act == "relu" else np.tanh(view)
        with gw.no_grad():
            np.testing.assert_array_equal(getattr(F, act)(gw.tensor(view)).data, expected)
    if act == "relu":
        ints = np.arange(-5, 6)
        np.testing.assert_array_equal(F.relu(gw.tensor(ints)).data, np.maximum(ints, 0))


def test_threaded_training_step_matches_one_thread(threads, small_chunks):
    """A SimpleConvNet and a LeNet-5 step with 2 threads set: the same loss and gradients,
    bit for bit, as on one (the kernels give each thread whole channels, each computed as on
    one thread), and the same scores under no_grad up to the linear layers' rounding."""
    from gradwise.models import LeNet5, SimpleConvNet

    rng = np.random.default_rng(7)
    X = rng.random((6, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, size=6)
    for build in (lambda: SimpleConvNet(filter_num=4, hidden_size=8),
                  lambda: LeNet5(input_size=28)):
        grads = []
        for n in (1, 2):
            threads(n)
            gw.manual_seed(0)
            model = build()
            scores = model(gw.tensor(X))
            loss = F.cross_entropy(scores, gw.tensor(y))
            loss.backward()
            with gw.no_grad():  # float32 rounding at most: the linear layers' GEMMs
                np.testing.assert_allclose(model(gw.tensor(X)).data, scores.data, rtol=1e-5, atol=1e-6)
            grads.append([loss.data] + [p.grad for p in model.parameters()])
        for a, c in zip(*grads):
            np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dA_dtype", [None, np.float64])
def test_tanh_backward_in_one_array_is_the_course_formula_bit_for_bit(dtype, dA_dtype):
    # Backward computes dA * (1 - A^2) into one new array: the same operations, the same bits;
    # an upstream gradient of another dtype (the kernel called directly) promotes as the
    # plain formula does.
    from gradwise.ops.activation import Tanh
    rng = np.random.default_rng(11)
    Z = rng.normal(size=(4, 6, 9, 9)).astype(dtype)
    dA = rng.normal(size=Z.shape).astype(dA_dtype or dtype)
    A = np.tanh(Z)
    expected = dA * (1 - A * A)
    tanh = Tanh()
    np.testing.assert_array_equal(tanh.forward(Z), A)
    dZ = tanh.backward(dA)
    assert dZ.dtype == expected.dtype
    np.testing.assert_array_equal(dZ, expected)
    if dA_dtype is None:  # and through autograd
        z = gw.tensor(Z, requires_grad=True)
        F.tanh(z).backward(dA)
        np.testing.assert_array_equal(z.grad, expected)


@pytest.mark.parametrize("shape,k,s,p", [
    ((5, 6, 28, 28), 2, 2, 0),     # LeNet-5's first pooling
    ((5, 16, 10, 10), 2, 2, 0),    # and its second
    ((3, 2, 9, 12), 3, 3, 0),      # tiled along both axes with f = 3
    ((3, 2, 8, 10), 2, 2, 1),      # padded: the padded input is tiled
    ((3, 2, 9, 9), 2, 2, 0),       # an odd edge: not tiled, the general path
    ((3, 2, 9, 9), 3, 2, 1),       # overlapping windows
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_avg_pool_backward_is_every_window_share_bit_for_bit(shape, k, s, p, dtype):
    # Each input pixel's gradient is the sum of dZ / (f f) over the windows that hold it,
    # computed here by a plain loop over the windows (one window per pixel when they tile,
    # so the fast path's copies must give exactly dZ * (1 / (f f))).
    rng = np.random.default_rng(12)
    X = rng.normal(size=shape).astype(dtype)
    x = gw.tensor(X, requires_grad=True)
    y = F.avg_pool2d(x, k, s, p)
    dZ = rng.normal(size=y.shape).astype(dtype)
    y.backward(dZ)
    share = dZ * dtype(1.0 / (k * k))
    m, C, H, W = shape
    dXp = np.zeros((m, C, H + 2 * p, W + 2 * p), dtype)
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            dXp[:, :, i * s:i * s + k, j * s:j * s + k] += share[:, :, i:i + 1, j:j + 1]
    expected = dXp[:, :, p:p + H, p:p + W]
    if H + 2 * p == k * y.shape[2] and W + 2 * p == k * y.shape[3] and s == k:
        np.testing.assert_array_equal(x.grad, expected)
    else:  # overlapping or partly covered windows: sums in another order
        np.testing.assert_allclose(x.grad, expected, rtol=1e-6, atol=1e-7)
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("x_shape,w_shape,stride,padding,dilation", CONV_CASES)
@pytest.mark.parametrize("order", [(0, 1, 2, 3), (1, 2, 3, 0), (1, 0, 2, 3)])
def test_conv2d_on_every_memory_layout_matches_torch(x_shape, w_shape, stride, padding,
                                                    dilation, order):
    # The input as NCHW memory, as batch-last memory (what a conv or pooling layer returns)
    # and channel-major: the same convolution, bit for bit, and torch's within rounding.
    rng = np.random.default_rng(9)
    Fo, fh, fw = w_shape
    X = rng.normal(size=x_shape)
    W = rng.normal(size=(Fo, x_shape[1], fh, fw))
    b = rng.normal(size=Fo)
    laid_out = np.ascontiguousarray(X.transpose(order)).transpose(np.argsort(order))
    assert np.array_equal(laid_out, X)
    for bias in (True, False):
        got = []
        for data in (X, laid_out):
            x, w, bb = (gw.tensor(a, requires_grad=True) for a in (data, W, b))
            y = F.conv2d(x, w, bb if bias else None, stride, padding, dilation)
            dY = np.random.default_rng(1).normal(size=y.shape)
            y.backward(dY)
            got.append([y.data, x.grad, w.grad] + ([bb.grad] if bias else []))
        for a, c in zip(*got):
            np.testing.assert_array_equal(a, c)
        tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
        ty = tF.conv2d(tx, tw, tb if bias else None, stride, padding, dilation)
        ty.backward(torch.tensor(dY))
        np.testing.assert_allclose(got[1][0], ty.detach().numpy(), rtol=1e-10, atol=1e-10)
        for g, tg in zip(got[1][1:], [tx.grad, tw.grad, tb.grad]):
            np.testing.assert_allclose(g, tg.numpy(), rtol=1e-10, atol=1e-10)
