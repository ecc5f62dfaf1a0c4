"""nn.Module and the dense layers: registration, state, modes, init, errors, BatchNorm1d."""
import functools

import numpy as np
import pytest
from relu_pool_check import check_same_as_written

import gradwise as gw
import gradwise.functional as F
from gradwise import nn, optim
from gradwise.check import gradcheck
from gradwise.models import XOR, Perceptron


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.out = nn.Linear(3, 2)
        self.register_buffer("calls", np.zeros((), dtype=np.int64))

    def forward(self, X):
        return self.out(self.act(self.hidden(X)))


def test_registration_order_and_names():
    m = TwoLayer()
    assert [n for n, _ in m.named_parameters()] == ["hidden.W", "hidden.b", "out.W", "out.b"]
    assert [type(c).__name__ for c in m.children()] == ["Linear", "ReLU", "Linear"]
    assert [n for n, _ in m.named_modules()] == ["", "hidden", "act", "out"]
    # as PyTorch: a module's own parameters and buffers, then its children's
    assert list(m.state_dict()) == ["calls", "hidden.W", "hidden.b", "out.W", "out.b"]
    assert [n for n, _ in m.named_buffers()] == ["calls"]
    assert m.num_parameters() == 4 * 3 + 3 + 3 * 2 + 2


def test_buffers_are_not_parameters_and_stay_buffers_on_reassignment():
    bn = nn.BatchNorm1d(3)
    names = [n for n, _ in bn.named_parameters()]
    assert names == ["gamma", "beta"]
    bn.running_mean = np.ones(3, dtype=np.float32)
    assert "running_mean" in bn.state_dict()
    np.testing.assert_array_equal(bn.state_dict()["running_mean"], np.ones(3))


def test_shared_parameter_listed_once():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2


def test_linear_weight_layout_and_forward():
    lin = nn.Linear(5, 2)
    assert lin.W.shape == (2, 5) and lin.b.shape == (2,)
    assert lin.weight is lin.W and lin.bias is lin.b
    X = gw.randn(7, 5)
    np.testing.assert_allclose(lin(X).data, X.data @ lin.W.data.T + lin.b.data, rtol=1e-6)
    assert nn.Linear(5, 2, bias=False).b is None
    assert [n for n, _ in nn.Linear(5, 2, bias=False).named_parameters()] == ["W"]


def test_linear_computes_batch_last_and_a_W_in_either_memory_order_trains_alike(tmp_path):
    """A batch's Z and dX come out batch-last ((n, m) in memory, as the course's Z = W X), W
    stays C-ordered as in PyTorch, and dW comes back in W's memory order: a W the user
    replaces by a Fortran-ordered array keeps its order through SGD and trains to the same
    numbers (to float32 rounding), without the 20x slower update across two layouts."""
    gw.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    twin = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    twin.load_state_dict(model.state_dict())
    for lin in (twin[0], twin[2]):
        assert lin.W.data.flags.c_contiguous
        lin.W.data = np.asfortranarray(lin.W.data)
    X = gw.randn(8, 6, requires_grad=True)
    y = gw.tensor(np.arange(8) % 3)
    Z = model[0](X)
    assert Z.data.flags.f_contiguous and not Z.data.flags.c_contiguous
    np.testing.assert_allclose(Z.data, X.data @ model[0].W.data.T + model[0].b.data, rtol=1e-6)
    F.cross_entropy(model[2](model[1](Z)), y).backward()
    assert X.grad.flags.f_contiguous and model[0].W.grad.flags.c_contiguous
    opts = [optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in (model, twin)]
    for _ in range(3):
        for m, opt in zip((model, twin), opts):
            opt.zero_grad()
            F.cross_entropy(m(X), y).backward()
            opt.step()
        assert twin[0].W.grad.flags.f_contiguous and not twin[0].W.grad.flags.c_contiguous
        np.testing.assert_allclose(model[0].W.grad, twin[0].W.grad, rtol=1e-5, atol=1e-7)
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-5, atol=1e-7)
    assert twin[0].W.data.flags.f_contiguous                 # the update kept the layout
    gw.save(twin.state_dict(), tmp_path / "m.npz")
    back = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    back.load_state_dict(gw.load(tmp_path / "m.npz"))
    np.testing.assert_array_equal(back(X).data, twin(X).data)


@pytest.mark.parametrize("x_order", ["C", "F"])
@pytest.mark.parametrize("w_order", ["C", "F"])
def test_linear_gradchecks_and_matches_numpy_on_every_memory_order(x_order, w_order):
    """The op takes its GEMMs in whichever order the arrays come: a user's row-major batch,
    the batch-last activations of the layer before, a W in either order. float64 gradcheck
    for each pair, and the forward equal to X W^T + b."""
    rng = np.random.default_rng(5)
    X = np.asarray(rng.normal(size=(7, 4)), order=x_order)
    W = np.asarray(rng.normal(size=(3, 4)), order=w_order)
    b = rng.normal(size=3)
    Xt, Wt, bt = (gw.tensor(a, requires_grad=True) for a in (X, W, b))
    Xt.data, Wt.data = X, W                    # keep the memory order the test asked for
    assert Xt.data.flags.f_contiguous == (x_order == "F") and Wt.data.flags.f_contiguous == (w_order == "F")
    np.testing.assert_allclose(F.linear(Xt, Wt, bt).data, X @ W.T + b, rtol=1e-12)
    gradcheck(F.linear, (Xt, Wt, bt))


def test_wrong_input_width_names_the_layer_and_shapes():
    model = nn.Sequential(nn.Linear(784, 10))
    with pytest.raises(ValueError, match=r"Linear\(784, 10\).*\(batch, 784\).*\(3, 100\)"):
        model(gw.randn(3, 100))


def test_train_eval_are_recursive():
    m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    m.eval()
    assert all(not mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())


def test_zero_grad_and_freeze():
    m = TwoLayer()
    F.cross_entropy(m(gw.randn(5, 4)), gw.tensor([0, 1, 0, 1, 1])).backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.hidden.requires_grad_(False)
    F.cross_entropy(m(gw.randn(5, 4)), gw.tensor([0, 1, 0, 1, 1])).backward()
    assert m.hidden.W.grad is None and m.out.W.grad is not None
    assert m.num_parameters(trainable_only=True) == 3 * 2 + 2


def test_state_dict_round_trip_and_strictness():
    a, b = TwoLayer(), TwoLayer()
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    state = a.state_dict()
    state["extra.W"] = np.zeros(2)
    del state["out.b"]
    # RuntimeError, as torch.nn.Module.load_state_dict raises
    with pytest.raises(RuntimeError, match=r"missing keys \['out.b'\].*unexpected keys \['extra.W'\]"):
        b.load_state_dict(state)
    result = b.load_state_dict(state, strict=False)
    assert result.missing_keys == ["out.b"] and result.unexpected_keys == ["extra.W"]
    bad = {k: v + 1 for k, v in a.state_dict().items()}    # other values everywhere
    bad["out.W"] = np.zeros((5, 5))
    before = b.state_dict()
    with pytest.raises(RuntimeError, match=r"'out.W'.*\(5, 5\).*\(2, 3\)"):
        b.load_state_dict(bad)
    for k, v in b.state_dict().items():      # checked before anything is copied
        np.testing.assert_array_equal(v, before[k])
    bad["out.W"] = np.full((2, 3), "x")                   # a value that is not a number
    with pytest.raises(RuntimeError, match=r"'out.W' has dtype <U1 .*float32"):
        b.load_state_dict(bad)
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_state_dict_is_a_copy():
    m = TwoLayer()
    s = m.state_dict()
    s["out.b"][...] = 42
    assert not np.any(m.out.b.data == 42)


def test_apply_visits_children_then_self():
    order = []
    TwoLayer().apply(lambda mod: order.append(type(mod).__name__))
    assert order == ["Linear", "ReLU", "Linear", "TwoLayer"]


def test_sequential_indexing_and_ordered_dict():
    from collections import OrderedDict

    seq = nn.Sequential(OrderedDict(fc=nn.Linear(2, 3), act=nn.Tanh()))
    assert [n for n, _ in seq.named_parameters()] == ["fc.W", "fc.b"]
    assert isinstance(seq[1], nn.Tanh) and len(seq[:1]) == 1
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(list(ml.parameters())) == 6


def _conv_relu_pool(pad):
    """pad 0 and 1: 2 x 2 windows side by side; pad None: overlapping 3 x 3 windows, stride 2."""
    pool, side = (nn.MaxPool2d(3, 2), 3) if pad is None else (nn.MaxPool2d(2, padding=pad), 4 + pad)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), pool, nn.Flatten(),
                         nn.Linear(3 * side ** 2, 4))


def _by_hand(seq, x):
    """The layers one after the other, in the order written: conv, ReLU, pooling, ..."""
    for layer in seq:
        x = layer(x)
    return x


@pytest.mark.parametrize("pad", [0, 1, None])
@pytest.mark.parametrize("data", ["ties", "nan"])
def test_sequential_pools_before_relu_to_the_same_bits(pad, data):
    # integer-valued data and weights give tied maxima, zeros and all-negative windows
    rng = np.random.default_rng(3)
    X = rng.integers(-2, 3, size=(5, 2, 8, 8)).astype(np.float32)
    if data == "nan":
        X[0, 0, :2, :2] = np.nan
    seq = _conv_relu_pool(pad)
    with gw.no_grad():
        for p in seq.parameters():
            p.data[...] = rng.integers(-1, 2, size=p.shape)
    dY = rng.normal(size=(5, 4)).astype(np.float32)
    grads = []
    for run in (seq, functools.partial(_by_hand, seq)):
        x = gw.tensor(X, requires_grad=True)
        seq.zero_grad()
        y = run(x)
        y.backward(dY)
        grads.append([y.data, x.grad] + [p.grad.copy() for p in seq.parameters()])
    for fused, written in zip(*grads, strict=True):
        np.testing.assert_array_equal(fused, written)
    assert np.isnan(grads[0][0]).any() == (data == "nan")
    flat = seq(gw.tensor(X[:1], requires_grad=True)).creator.inputs[0]   # Linear's input
    assert type(flat.creator.inputs[0].creator).__name__ == "ReLU"         # ReLU came last


def test_pooling_before_relu_keeps_the_sign_of_zero_and_nan():
    # windows: [-1, -0.0 | -0.0, -1], [0.0, -0.0 | -0.0, 0.0], [nan, 2 | 2, -1], [3, 3 | -3, 1]
    X = np.array([[-1, -0.0, 0.0, -0.0, np.nan, 2, 3, 3],
                  [-0.0, -1, -0.0, 0.0, 2, -1, -3, 1]], np.float32).reshape(1, 1, 2, 8)
    seq = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))
    outs = []
    for run in (seq, functools.partial(_by_hand, seq)):
        x = gw.tensor(X, requires_grad=True)
        y = run(x)
        y.backward(np.ones(y.shape, np.float32))
        outs.append((y.data, x.grad))
    for fused, written in zip(*outs, strict=True):
        np.testing.assert_array_equal(fused, written)
        np.testing.assert_array_equal(np.signbit(fused), np.signbit(written))


def test_a_hook_on_the_relu_sees_it_where_it_was_written():
    seq = _conv_relu_pool(0)
    seen = []
    seq[1].register_forward_hook(lambda mod, inp, out: seen.append(out.shape))
    X = np.random.default_rng(0).normal(size=(2, 2, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(seq(gw.tensor(X)).data, _by_hand(seq, gw.tensor(X)).data)
    assert seen == [(2, 3, 8, 8), (2, 3, 8, 8)]


def test_the_books_simpleconvnet_pools_before_relu_to_the_same_bits():
    """A model written as a class (conv - relu - pool in its forward) gets the same order
    through nn.containers.relu_pool; a hook on its ReLU turns it off and sees 24 x 24 maps."""
    from gradwise.models import SimpleConvNet

    rng = np.random.default_rng(4)
    X = rng.integers(-2, 3, size=(3, 1, 28, 28)).astype(np.float32)
    X[0, 0, :2, :2] = np.nan
    model = SimpleConvNet(weight_init_std=1.0)
    with gw.no_grad():
        for p in model.parameters():
            p.data[...] = rng.integers(-1, 2, size=p.shape)
    before_flatten = []
    model.flatten.register_forward_hook(
        lambda mod, inp, out: before_flatten.append(type(inp[0].creator).__name__))
    assert check_same_as_written(model, model.relu1, X) == [(3, 30, 24, 24)]
    assert before_flatten[0] == "ReLU" and before_flatten[1] != "ReLU"   # pooled, then ReLU


def test_summary_lists_shapes_and_counts():
    m = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    text = m.summary((784,), print_fn=None)
    assert "(None, 100)" in text and "(None, 10)" in text
    assert "78,500" in text and "Total params: 79,510" in text


def test_forward_hook_can_observe_and_be_removed():
    lin = nn.Linear(2, 2)
    seen = []
    handle = lin.register_forward_hook(lambda mod, inp, out: seen.append(out.shape))
    lin(gw.randn(3, 2))
    handle.remove()
    lin(gw.randn(3, 2))
    assert seen == [(3, 2)]


@pytest.mark.parametrize("scheme,expected_std", [
    ("he_normal", np.sqrt(2 / 400)),
    ("xavier_course", np.sqrt(1 / 400)),
    ("xavier_normal", np.sqrt(2 / (400 + 300))),
    ("normal", 0.01),
])
def test_init_scales(scheme, expected_std):
    gw.manual_seed(0)
    W = nn.Linear(400, 300, init=scheme).W.data
    assert abs(W.std() / expected_std - 1) < 0.02
    assert abs(W.mean()) < 3 * expected_std / np.sqrt(W.size) * 3


def test_uniform_inits_and_zeros():
    gw.manual_seed(0)
    W = nn.Linear(600, 200, init="he_uniform").W.data
    a = np.sqrt(6 / 600)
    assert W.max() <= a and W.min() >= -a and abs(W.std() - np.sqrt(2 / 600)) < 0.02 * np.sqrt(2 / 600)
    assert not nn.Linear(3, 3, init="zeros").W.data.any()
    with pytest.raises(ValueError, match="unknown init"):
        nn.Linear(3, 3, init="bogus")


def test_init_is_seeded():
    gw.manual_seed(3)
    a = nn.Linear(4, 4).W.data.copy()
    gw.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(4, 4).W.data, a)


def test_dropout_is_inverted_and_identity_in_eval():
    gw.manual_seed(0)
    drop = nn.Dropout(p=0.2)
    X = gw.ones(2000, 50)
    Y = drop(X).data
    kept = Y != 0
    assert abs(kept.mean() - 0.8) < 0.01                    # keep_prob = 1 - p
    np.testing.assert_allclose(Y[kept], 1 / 0.8, rtol=1e-6)  # survivors scaled by 1/keep_prob
    assert abs(Y.mean() - 1) < 0.02                         # expectation unchanged
    drop.eval()
    assert drop(X) is X


def test_dropout_backward_uses_the_same_mask():
    X = gw.randn(4, 5, requires_grad=True)
    mask = np.random.default_rng(0).random((4, 5)) < 0.5
    F.dropout(X, 0.5, mask=mask).sum().backward()
    np.testing.assert_allclose(X.grad, mask / 0.5)


@pytest.mark.parametrize("layout", ["batch-last", "row-major", "batch-last map"])
def test_dropout_keeps_the_layout_of_its_input_and_the_mask_of_its_seed(layout):
    # a Linear layer's output is batch-last (F-ordered), a convolution's map (C, H, W, m) in
    # memory: dropout's output and its gradient keep that layout, with the mask a row-major
    # draw of the same seed gives
    from gradwise.kernels import from_batch_last
    from gradwise.ops.dropout import Dropout

    shape = (6, 3, 4, 5) if layout == "batch-last map" else (6, 5)
    A = np.random.default_rng(1).normal(size=(5, 6)).T           # (m, n), batch-last
    if layout == "row-major":
        A = np.ascontiguousarray(A)
    if layout == "batch-last map":
        A = from_batch_last(np.random.default_rng(1).normal(size=(3, 4, 5, 6)))
    gw.manual_seed(7)
    Y = F.dropout(gw.Tensor(A), p=0.5).data                     # Tensor(A) keeps A as it is
    gw.manual_seed(7)
    D = gw.backend.rng().random(shape, dtype=np.float32) < 0.5
    np.testing.assert_array_equal(Y, D * A / 0.5)
    assert Y.strides == A.strides
    dY = np.asfortranarray(np.random.default_rng(2).normal(size=shape))
    dA = Dropout(D / 0.5).backward(dY)
    np.testing.assert_array_equal(dA, D * dY / 0.5)
    assert dA.strides == dY.strides


def test_batchnorm1d_training_and_running_stats():
    bn = nn.BatchNorm1d(3, momentum=0.1)
    X = gw.tensor(np.random.default_rng(0).normal(5, 2, size=(64, 3)))
    Y = bn(X).data
    np.testing.assert_allclose(Y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(Y.std(0), 1, atol=1e-3)
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * X.data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * X.data.var(0, ddof=1), rtol=1e-5)
    assert int(bn.num_batches_tracked.data) == 1
    bn.eval()
    Ye = bn(X).data
    expected = (X.data - bn.running_mean.data) / np.sqrt(bn.running_var.data + bn.eps)
    np.testing.assert_allclose(Ye, expected, rtol=1e-5)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\).*\(4, 5\)"):
        bn(gw.randn(4, 5))


def test_batch_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(16, 4))
    dY = rng.normal(size=(16, 4))
    bn = nn.BatchNorm1d(4, dtype=np.float64)
    bn.gamma.data[...] = rng.normal(size=4)
    bn.beta.data[...] = rng.normal(size=4)
    tbn = torch.nn.BatchNorm1d(4, dtype=torch.float64)
    with torch.no_grad():
        tbn.weight.copy_(torch.tensor(bn.gamma.data))
        tbn.bias.copy_(torch.tensor(bn.beta.data))
    for step in range(3):
        x = gw.tensor(X + step, requires_grad=True)
        tx = torch.tensor(X + step, requires_grad=True)
        y, ty = bn(x), tbn(tx)
        y.backward(dY)
        ty.backward(torch.tensor(dY))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(bn.gamma.grad, tbn.weight.grad.numpy(), rtol=1e-8)
    np.testing.assert_allclose(bn.beta.grad, tbn.bias.grad.numpy(), rtol=1e-8)
    np.testing.assert_allclose(bn.running_mean.data, tbn.running_mean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(bn.running_var.data, tbn.running_var.numpy(), rtol=1e-10)
    bn.eval(), tbn.eval()
    x = gw.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    bn(x).backward(dY)
    tbn(tx).backward(torch.tensor(dY))
    np.testing.assert_allclose(bn(x).data, tbn(tx).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-8)


def test_dropout_with_fixed_mask_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    X = rng.normal(size=(6, 5))
    mask = rng.random((6, 5)) < 0.7
    x = gw.tensor(X, requires_grad=True)
    y = F.dropout(x, p=0.3, mask=mask)
    tx = torch.tensor(X, requires_grad=True)
    ty = tx * torch.tensor(mask) / 0.7  # what torch's dropout computes for this mask
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)


TRUTH = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=np.float32)


@pytest.mark.parametrize("gate,expected", [
    ("AND", [0, 0, 0, 1]), ("NAND", [1, 1, 1, 0]), ("OR", [0, 1, 1, 1]),
])
def test_perceptron_gates(gate, expected):
    np.testing.assert_array_equal(Perceptron.gate(gate)(TRUTH).data, expected)


def test_xor_needs_two_layers():
    np.testing.assert_array_equal(XOR()(TRUTH).data, [0, 1, 1, 0])
    with pytest.raises(ValueError, match="XOR needs two layers"):
        Perceptron.gate("XOR")
    with pytest.raises(RuntimeError, match="not be linearly separable"):
        Perceptron().learn(TRUTH, [0, 1, 1, 0])


@pytest.mark.parametrize("targets", [[0, 0, 0, 1], [0, 1, 1, 1]])
def test_perceptron_learning_rule(targets):
    p = Perceptron()
    epochs = p.learn(TRUTH, targets, lr=0.1)
    assert epochs < 20
    np.testing.assert_array_equal(p(TRUTH).data, targets)


def test_reassigning_a_layer_keeps_its_position():
    seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    setattr(seq, "0", nn.Linear(4, 3))
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    assert seq(gw.randn(2, 4)).shape == (2, 2)
    m = TwoLayer()
    m.hidden = nn.Linear(4, 3)
    assert [n for n, _ in m.named_parameters()] == ["hidden.W", "hidden.b", "out.W", "out.b"]
    m.hidden = None                      # a removed child disappears from the walk
    assert [n for n, _ in m.named_parameters()] == ["out.W", "out.b"]


def test_wrong_width_deep_in_a_stack_names_the_layer_position():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(),
                          nn.Sequential(nn.Linear(8, 8), nn.Linear(9, 2)))
    with pytest.raises(ValueError, match=r"^Sequential layer '2': Sequential layer '1': "
                                         r"Linear\(9, 2\): expected input \(batch, 9\), got \(3, 8\)"):
        model(gw.randn(3, 4))
    with pytest.raises(ValueError, match=r"Linear\(9, 2\)"):
        model.summary((4,), print_fn=None)  # summary runs the model: the same message


def test_summary_rows_for_nested_and_parameter_owning_modules_and_frozen_counts():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(3, 2)
            self.alpha = nn.Parameter(np.ones(1, dtype=np.float32))

        def forward(self, X):
            return self.inner(X) * self.alpha

    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), Scaled())
    model[0].requires_grad_(False)
    text = model.summary((4,), print_fn=None)
    rows = [line.split() for line in text.splitlines() if line.split()[:1] in
            (["0"], ["1"], ["2"], ["3"], ["3.inner"])]
    assert [(r[0], r[1], r[-1]) for r in rows] == [
        ("0", "(Linear)", "15"), ("1", "(BatchNorm1d)", "6"), ("2", "(ReLU)", "0"),
        ("3.inner", "(Linear)", "8"), ("3", "(Scaled)", "1")]
    assert "Total params: 30" in text and "Trainable params: 15" in text
    assert "Non-trainable params: 15" in text
    assert model.training  # summary restores the mode
    printed = []
    model.summary((4,), print_fn=printed.append)
    assert printed == [text]


def test_requires_grad_false_freezes_for_an_optimizer():
    from gradwise import optim

    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
    model[0].requires_grad_(False)
    before = model[0].W.data.copy()
    opt = optim.SGD(model.parameters(), lr=0.5)
    F.cross_entropy(model(gw.randn(4, 3)), gw.tensor([0, 1, 1, 0])).backward()
    opt.step()
    np.testing.assert_array_equal(model[0].W.data, before)
    assert model[2].W.grad is not None
    model.requires_grad_(True)
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("scheme", ["default", "zeros", "normal", "xavier_normal", "xavier_uniform",
                                    "xavier_course", "he_normal", "he_uniform"])
def test_every_init_choice_is_accepted_by_linear_and_seeded(scheme):
    gw.manual_seed(5)
    a = nn.Linear(30, 20, init=scheme)
    gw.manual_seed(5)
    b = nn.Linear(30, 20, init=scheme)
    np.testing.assert_array_equal(a.W.data, b.W.data)
    assert a.W.dtype == np.float32 and a.W.shape == (20, 30)
    if scheme != "default":
        assert not a.b.data.any()  # biases start at zero, as in the course
    lin = nn.Linear(3, 2, init=lambda W: nn.init.constant_(W, 0.5))
    np.testing.assert_array_equal(lin.W.data, np.full((2, 3), 0.5))


def test_dropout_matches_torch_with_torchs_own_mask():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(64, 40))
    dY = rng.normal(size=(64, 40))
    p = 0.3
    # torch draws the mask; recover it from dropout of ones, then run both on X
    torch.manual_seed(0)
    tx = torch.tensor(X, requires_grad=True)
    ty = torch.nn.functional.dropout(tx, p=p, training=True)
    ty.backward(torch.tensor(dY))
    torch.manual_seed(0)
    mask = torch.nn.functional.dropout(torch.ones(64, 40, dtype=torch.float64), p=p).numpy() != 0
    assert 0.6 < mask.mean() < 0.8
    x = gw.tensor(X, requires_grad=True)
    y = F.dropout(x, p=p, mask=mask)
    y.backward(dY)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)
    # the module: inverted dropout in training, identity in eval, like torch.nn.Dropout
    drop, tdrop = nn.Dropout(p), torch.nn.Dropout(p)
    drop.eval(), tdrop.eval()
    np.testing.assert_array_equal(drop(gw.tensor(X)).data, tdrop(torch.tensor(X)).numpy())


def test_batch_norm_float32_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    X = rng.normal(3, 2, size=(32, 6)).astype(np.float32)
    bn, tbn = nn.BatchNorm1d(6, momentum=0.2), torch.nn.BatchNorm1d(6, momentum=0.2)
    for _ in range(3):
        y, ty = bn(gw.tensor(X)), tbn(torch.tensor(X))
        assert y.dtype == np.float32 and bn.running_var.dtype == np.float32
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean.data, tbn.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data, tbn.running_var.numpy(), rtol=1e-5)
    assert int(bn.num_batches_tracked.data) == int(tbn.num_batches_tracked) == 3


def test_activation_modules_are_their_functions_and_shape_layers():
    X = gw.randn(4, 5)
    pairs = [(nn.Step(), F.step), (nn.Sigmoid(), F.sigmoid), (nn.Tanh(), F.tanh), (nn.ReLU(), F.relu),
             (nn.Softplus(), F.softplus), (nn.LeakyReLU(0.2), lambda z: F.leaky_relu(z, 0.2)),
             (nn.Softmax(dim=1), lambda z: F.softmax(z, 1)),
             (nn.LogSoftmax(axis=-1), lambda z: F.log_softmax(z, -1))]
    for module, fn in pairs:
        np.testing.assert_array_equal(module(X).data, fn(X).data)
    np.testing.assert_allclose(nn.Softmax()(X).data.sum(axis=1), 1, rtol=1e-6)
    assert nn.Identity()(X) is X
    assert nn.Flatten()(gw.randn(2, 3, 4, 5)).shape == (2, 60)
    assert nn.Flatten(start_dim=2)(gw.randn(2, 3, 4, 5)).shape == (2, 3, 20)
    assert "negative_slope=0.2" in repr(nn.Sequential(nn.LeakyReLU(0.2)))


def test_parameter_dtype_rules():
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32  # Python floats: the default dtype
    a = np.zeros(3)
    p = nn.Parameter(a)
    assert p.dtype == np.float64 and p.data is a and p.requires_grad  # arrays are shared
    assert not nn.Parameter(gw.ones(2), requires_grad=False).requires_grad


def test_dropout_draws_from_a_given_generator_and_leaves_the_global_one():
    X = gw.ones(6, 7)
    expected = (np.random.default_rng(3).random((6, 7), dtype=np.float32) < 0.75) / np.float32(0.75)
    state = gw.get_rng_state()
    np.testing.assert_array_equal(F.dropout(X, 0.25, generator=np.random.default_rng(3)).data, expected)
    drop = nn.Dropout(0.25, generator=np.random.default_rng(3))
    np.testing.assert_array_equal(drop(X).data, expected)
    assert not np.array_equal(drop(X).data, expected)       # the layer's generator moves on
    assert gw.get_rng_state() == state                       # the global one was not touched
    assert "generator" in repr(drop)


def test_dropout_defaults_to_the_global_generator():
    X = gw.ones(6, 7)
    gw.manual_seed(11)
    a = nn.Dropout(0.5)(X).data
    gw.manual_seed(11)
    b = F.dropout(X, 0.5, generator=gw.backend.rng()).data
    np.testing.assert_array_equal(a, b)


def test_dropout_generator_errors():
    X = gw.ones(2, 2)
    with pytest.raises(TypeError, match=r"dropout: generator must be a numpy.random.Generator.*int"):
        F.dropout(X, 0.5, generator=3)
    with pytest.raises(TypeError, match=r"Dropout: generator must be a numpy.random.Generator"):
        nn.Dropout(0.5, generator="seed")
    with pytest.raises(ValueError, match="dropout: give either mask or generator"):
        F.dropout(X, 0.5, mask=np.ones((2, 2)), generator=np.random.default_rng(0))
