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


@pytest.mark.parametrize("chunk", [1, 60, 500])
def test_conv2d_weight_gradient_summed_over_chunks_of_the_batch(monkeypatch, chunk):
    """Wide layers sum dW over chunks of the batch (a small temporary): same result."""
    from gradwise.ops import conv as conv_ops

    monkeypatch.setattr(conv_ops, "_CHUNK", chunk)
    rng = np.random.default_rng(9)
    X, W, b = rng.normal(size=(5, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    x, w, bb = (gw.tensor(a, requires_grad=True) for a in (X, W, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
    dY = rng.normal(size=(5, 4, 6, 6))
    F.conv2d(x, w, bb, padding=1).backward(dY)
    tF.conv2d(tx, tw, tb, padding=1).backward(torch.tensor(dY))
    for g, tg in ((x, tx), (w, tw), (bb, tb)):
        np.testing.assert_allclose(g.grad, tg.grad.numpy(), rtol=1e-10, atol=1e-10)
