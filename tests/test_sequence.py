"""Sequence models against PyTorch: recurrent layers and cells, embedding, layer norm,
attention and the Transformer encoder block, with PyTorch's weights copied in through state
dicts; forward values and the gradients of inputs, initial states and every weight.
Then truncated BPTT, the vocabulary and chunking helpers, sampling, and the errors."""
import numpy as np
import pytest

import gradwise as gw
import gradwise.functional as F
from gradwise import nn
from gradwise.data import Vocabulary, bptt_batches, pad_sequences
from gradwise.models import CharRNN, sample

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-9, 1e-10   # float64 throughout


def _t(a, grad=True):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _g(a, grad=True):
    return gw.Tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def _close(ours, theirs, what):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    np.testing.assert_allclose(getattr(ours, "data", ours), theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def _twin(gw_cls, torch_cls, *args, **kw):
    """The same layer in both frameworks, float64, torch's weights loaded into ours."""
    torch.manual_seed(0)
    theirs = torch_cls(*args, **kw).double()
    ours = gw_cls(*args, dtype=np.float64, **kw)
    nn.load_torch_state_dict(ours, theirs.state_dict())
    return ours, theirs


def _compare_grads(ours, theirs):
    """The gradient of every parameter, ours under torch's name (these layers hold no buffers)."""
    tparams = dict(theirs.named_parameters())
    names = list(nn.torch_state_dict(ours))
    params = list(ours.parameters())
    assert sorted(names) == sorted(tparams) and len(params) == len(names)
    for p, name in zip(params, names):
        _close(p.grad, tparams[name].grad, f"gradient of {name}")


# ---- recurrent layers ----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("layers, bidirectional", [(1, False), (2, False), (2, True)])
def test_recurrent_layers_match_torch(mode, batch_first, layers, bidirectional):
    D, H, T, N = 3, 4, 5, 2
    ours, theirs = _twin(getattr(nn, mode), getattr(torch.nn, mode), D, H, num_layers=layers,
                         batch_first=batch_first, bidirectional=bidirectional)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, T, D) if batch_first else (T, N, D))
    h0 = rng.standard_normal((layers * (2 if bidirectional else 1), N, H))
    c0 = rng.standard_normal(h0.shape)
    X, tX, A0, tA0, C0, tC0 = _g(x), _t(x), _g(h0), _t(h0), _g(c0), _t(c0)
    if mode == "LSTM":
        (y, (h, c)), (ty, (th, tc)) = ours(X, (A0, C0)), theirs(tX, (tA0, tC0))
        _close(c, tc, "c_n")
    else:
        (y, h), (ty, th) = ours(X, A0), theirs(tX, tA0)
    _close(y, ty, "output")
    _close(h, th, "h_n")
    R = rng.standard_normal(y.shape)
    loss = (y * gw.Tensor(R)).sum() + (h * h).sum()
    tloss = (ty * torch.from_numpy(R)).sum() + (th * th).sum()
    if mode == "LSTM":
        loss, tloss = loss + c.sum(), tloss + tc.sum()
    loss.backward()
    tloss.backward()
    _close(X.grad, tX.grad, "input gradient")
    _close(A0.grad, tA0.grad, "h_0 gradient")
    if mode == "LSTM":
        _close(C0.grad, tC0.grad, "c_0 gradient")
    _compare_grads(ours, theirs)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_no_bias_and_relu(mode):
    kw = {"nonlinearity": "relu"} if mode == "RNN" else {}
    ours, theirs = _twin(getattr(nn, mode), getattr(torch.nn, mode), 3, 2, bias=False, **kw)
    assert "bias_ih_l0" not in ours.state_dict()
    x = np.random.default_rng(2).standard_normal((4, 3))
    X, tX = _g(x), _t(x)
    y, ty = ours(X)[0], theirs(tX)[0]
    _close(y, ty, "unbatched output")
    y.sum().backward()
    ty.sum().backward()
    _close(X.grad, tX.grad, "unbatched input gradient")


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_cells_match_torch_over_steps(mode):
    ours, theirs = _twin(getattr(nn, mode + "Cell"), getattr(torch.nn, mode + "Cell"), 3, 4)
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((3, 2, 3))
    X, tX = _g(xs), _t(xs)
    state, tstate = None, None
    for t in range(3):
        state, tstate = ours(X[t], state), theirs(tX[t], tstate)
    a, ta = (state[0], tstate[0]) if mode == "LSTM" else (state, tstate)
    _close(a, ta, "a<3>")
    a.sum().backward()
    ta.sum().backward()
    _close(X.grad, tX.grad, "input gradient")
    _compare_grads(ours, theirs)
    assert ours.Wax is ours.weight_ih and ours.Waa is ours.weight_hh
    one = ours(X[0].detach()[0])                      # one unbatched step
    assert (one[0] if mode == "LSTM" else one).shape == (4,)


def test_layer_state_dict_goes_back_to_torch():
    ours = nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=np.float64)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in nn.torch_state_dict(ours).items()})
    x = np.random.default_rng(4).standard_normal((5, 2, 3))
    _close(ours(_g(x, False))[0], theirs(_t(x, False))[0], "output after loading ours into torch")


def test_truncated_bptt_cuts_the_graph_between_chunks():
    rnn = nn.RNN(2, 3, dtype=np.float64)
    x = _g(np.random.default_rng(5).standard_normal((4, 1, 2)))
    _, h = rnn(x[:2])
    h = nn.detach_state(h)
    assert not h.requires_grad and h.creator is None
    y, _ = rnn(x[2:], h)
    y.sum().backward()
    assert np.all(x.grad[:2] == 0) and np.any(x.grad[2:] != 0)  # no gradient into chunk 1
    assert nn.detach_state(None) is None
    c = nn.detach_state((h, h))
    assert isinstance(c, tuple) and len(c) == 2


# ---- embedding, layer norm, positional encoding ----------------------------------------------
def test_embedding_matches_torch_with_padding_idx():
    ours, theirs = _twin(nn.Embedding, torch.nn.Embedding, 6, 3, padding_idx=1)
    ids = np.array([[1, 2, 2], [5, 1, 0]])
    y, ty = ours(ids), theirs(torch.from_numpy(ids))
    _close(y, ty, "lookup")
    R = np.random.default_rng(6).standard_normal(y.shape)
    y.backward(R)
    ty.backward(torch.from_numpy(R))
    _close(ours.weight.grad, theirs.weight.grad, "scatter-add gradient")
    assert np.all(ours.weight.grad[1] == 0)
    assert ours.E is ours.weight
    fresh = nn.Embedding(4, 2, padding_idx=-1)
    assert fresh.padding_idx == 3 and np.all(fresh.weight.data[3] == 0)


@pytest.mark.parametrize("shape", [(4,), (3, 4)])
def test_layer_norm_module_matches_torch(shape):
    ours, theirs = _twin(nn.LayerNorm, torch.nn.LayerNorm, shape)
    with torch.no_grad():
        theirs.weight.normal_()
        theirs.bias.normal_()
    nn.load_torch_state_dict(ours, theirs.state_dict())
    x = np.random.default_rng(7).standard_normal((2,) + (5,) * (2 - len(shape)) + shape)
    X, tX = _g(x), _t(x)
    y, ty = ours(X), theirs(tX)
    _close(y, ty, "layer norm")
    (y * y * y).sum().backward()
    (ty * ty * ty).sum().backward()
    _close(X.grad, tX.grad, "input gradient")
    _compare_grads(ours, theirs)
    assert set(nn.torch_state_dict(ours)) == {"weight", "bias"}


def test_positional_encoding_is_the_papers_table():
    pe = nn.sinusoidal_encoding(50, 6, dtype=np.float64)
    pos, i = 7, 1
    assert pe[pos, 2 * i] == pytest.approx(np.sin(pos / 10000 ** (2 * i / 6)))
    assert pe[pos, 2 * i + 1] == pytest.approx(np.cos(pos / 10000 ** (2 * i / 6)))
    layer = nn.PositionalEncoding(6, max_len=50, batch_first=True, dtype=np.float64)
    x = np.zeros((2, 10, 6))
    np.testing.assert_allclose(layer(gw.Tensor(x)).data, np.broadcast_to(pe[:10], x.shape))
    assert "pe" not in layer.state_dict()
    with pytest.raises(ValueError, match="max_len=50"):
        layer(gw.Tensor(np.zeros((1, 51, 6))))


# ---- attention ------------------------------------------------------------------------------------
def _masks(L, S, rng):
    allowed = rng.random((L, S)) < 0.7
    allowed[:, 0] = True                                # every query attends to something
    return {"none": None, "bool": allowed, "float": rng.standard_normal((L, S)),
            "causal": "causal"}


@pytest.mark.parametrize("kind", ["none", "bool", "float", "causal"])
def test_scaled_dot_product_attention_matches_torch(kind):
    rng = np.random.default_rng(8)
    q, k, v = (rng.standard_normal(s) for s in [(2, 3, 4, 5), (2, 3, 4, 5), (2, 3, 4, 6)])
    mask = _masks(4, 4, rng)[kind]
    causal = isinstance(mask, str)
    mask = None if causal else mask
    tmask = None if mask is None else torch.from_numpy(mask)
    gq, gk, gv, tq, tk, tv = _g(q), _g(k), _g(v), _t(q), _t(k), _t(v)
    y = F.scaled_dot_product_attention(gq, gk, gv, attn_mask=mask, is_causal=causal)
    ty = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=tmask, is_causal=causal)
    _close(y, ty, f"attention, {kind} mask")
    R = rng.standard_normal(y.shape)
    y.backward(R)
    ty.backward(torch.from_numpy(R))
    for a, b, name in ((gq, tq, "query"), (gk, tk, "key"), (gv, tv, "value")):
        _close(a.grad, b.grad, f"{name} gradient, {kind} mask")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal", "padding", "both"])
def test_multihead_attention_matches_torch(batch_first, mask):
    E, h, L, S, N = 6, 2, 4, 5, 3
    ours, theirs = _twin(nn.MultiheadAttention, torch.nn.MultiheadAttention, E, h, batch_first=batch_first)
    with torch.no_grad():
        theirs.in_proj_bias.normal_()
        theirs.out_proj.bias.normal_()
    nn.load_torch_state_dict(ours, theirs.state_dict())
    rng = np.random.default_rng(9)
    lay = (lambda T: (N, T, E)) if batch_first else (lambda T: (T, N, E))
    q, k, v = rng.standard_normal(lay(L)), rng.standard_normal(lay(S)), rng.standard_normal(lay(S))
    blocked = rng.random((L, S)) < 0.3
    blocked[:, 0] = False
    padding = np.zeros((N, S), dtype=bool)
    padding[0, -2:] = True
    kw = {"none": {}, "bool": {"attn_mask": blocked}, "float": {"attn_mask": rng.standard_normal((L, S))},
          "padding": {"key_padding_mask": padding}, "both": {"attn_mask": blocked, "key_padding_mask": padding},
          "causal": {"attn_mask": ~np.tril(np.ones((L, S), dtype=bool)), "is_causal": True}}[mask]
    tkw = {key: (torch.from_numpy(val) if isinstance(val, np.ndarray) else val) for key, val in kw.items()}
    gq, gk, gv, tq, tk, tv = _g(q), _g(k), _g(v), _t(q), _t(k), _t(v)
    (y, w), (ty, tw) = ours(gq, gk, gv, **kw), theirs(tq, tk, tv, **tkw)
    _close(y, ty, "output")
    _close(w, tw, "averaged weights")
    R = rng.standard_normal(y.shape)
    y.backward(R)
    ty.backward(torch.from_numpy(R))
    for a, b, name in ((gq, tq, "query"), (gk, tk, "key"), (gv, tv, "value")):
        _close(a.grad, b.grad, f"{name} gradient")
    _compare_grads(ours, theirs)
    _, per_head = ours(gq, gk, gv, average_attn_weights=False, **kw)
    assert per_head.shape == (N, h, L, S)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_encoder_layer_matches_torch(norm_first, batch_first):
    d, h, N, T = 8, 2, 2, 5
    ours, theirs = _twin(nn.TransformerEncoderLayer, torch.nn.TransformerEncoderLayer, d, h,
                         dim_feedforward=16, dropout=0.0, norm_first=norm_first, batch_first=batch_first)
    keys = set(nn.torch_state_dict(ours))
    assert keys == set(theirs.state_dict()), keys ^ set(theirs.state_dict())
    rng = np.random.default_rng(10)
    x = rng.standard_normal((N, T, d) if batch_first else (T, N, d))
    padding = np.zeros((N, T), dtype=bool)
    padding[1, -1] = True
    causal = ~np.tril(np.ones((T, T), dtype=bool))
    X, tX = _g(x), _t(x)
    theirs.train()  # the reference path (torch's fast path runs only in eval mode without grad)
    y = ours(X, src_mask=causal, src_key_padding_mask=padding)
    ty = theirs(tX, src_mask=torch.from_numpy(causal), src_key_padding_mask=torch.from_numpy(padding))
    _close(y, ty, "encoder layer")
    R = rng.standard_normal(y.shape)
    y.backward(R)
    ty.backward(torch.from_numpy(R))
    _close(X.grad, tX.grad, "input gradient")
    _compare_grads(ours, theirs)


# ---- helpers: vocabulary, padding, chunks, sampling ----------------------------------------
def test_vocabulary_padding_and_bptt_chunks():
    vocab = Vocabulary("hello world", specials=["<pad>", "<unk>"], unk="<unk>")
    assert vocab.itos[:2] == ["<pad>", "<unk>"] and len(vocab) == 10
    ids = vocab.encode("hold!")
    assert vocab.decode(ids) == "hold<unk>"
    with pytest.raises(KeyError, match="'!'"):
        Vocabulary("ab").encode("a!")
    np.testing.assert_array_equal(pad_sequences([[1, 2, 3], [4]], 2), [[1, 2], [4, 0]])
    text = np.arange(23)
    chunks = list(bptt_batches(text, batch_size=2, seq_len=4))
    assert [c[0].shape for c in chunks] == [(2, 4), (2, 4), (2, 3)]
    X = np.concatenate([c[0] for c in chunks], axis=1)
    Y = np.concatenate([c[1] for c in chunks], axis=1)
    np.testing.assert_array_equal(X[1], np.arange(11, 22))     # stream 1 continues in order
    np.testing.assert_array_equal(Y, X + 1)
    with pytest.raises(ValueError, match="too few"):
        list(bptt_batches([1, 2], batch_size=4, seq_len=2))


def test_sampling_is_seeded_and_temperature_sharpens():
    gw.manual_seed(0)
    model = CharRNN(5, hidden_size=8, embedding_dim=4, cell="lstm")
    gw.manual_seed(1)
    first = sample(model, [0], max_len=20, temperature=1.0)
    gw.manual_seed(1)
    assert sample(model, [0], max_len=20, temperature=1.0) == first
    own = sample(model, [0], max_len=20, generator=np.random.default_rng(3))
    assert own == sample(model, [0], max_len=20, generator=np.random.default_rng(3))
    greedy = sample(model, [0], max_len=10, temperature=0)
    assert greedy == sample(model, [0], max_len=10, temperature=0)
    assert sample(model, [0], stop_id=greedy[0], max_len=10, temperature=0) == greedy[:1]


# ---- errors name the layer and the shapes --------------------------------------------------
def test_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match=r"LSTM\(3, 4\).*\(T, N, D\).*\(5, 2, 7\)"):
        nn.LSTM(3, 4)(gw.zeros(5, 2, 7))
    with pytest.raises(ValueError, match=r"GRU\(3, 4\).*h_0 of shape \(1, 2, 4\).*\(1, 2, 5\)"):
        nn.GRU(3, 4)(gw.zeros(5, 2, 3), gw.zeros(1, 2, 5))
    with pytest.raises(ValueError, match=r"LSTMCell\(3, 4\).*\(2, 4\).*\(2, 3\)"):
        nn.LSTMCell(3, 4)(gw.zeros(2, 3), (gw.zeros(2, 3), gw.zeros(2, 4)))
    with pytest.raises(IndexError, match=r"\[0, 4\)"):
        nn.Embedding(4, 2)(np.array([0, 4]))
    with pytest.raises(ValueError, match="multiple of num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match=r"key_padding_mask.*\(2, 3\)"):
        mha = nn.MultiheadAttention(4, 2, batch_first=True)
        x = gw.zeros(2, 3, 4)
        mha(x, x, x, key_padding_mask=np.zeros((3, 2), dtype=bool))
    with pytest.raises(ValueError, match=r"LayerNorm\(4,\).*\(2, 5\)"):
        nn.LayerNorm(4)(gw.zeros(2, 5))
    with pytest.raises(ValueError, match="does not broadcast"):
        q = gw.zeros(2, 3, 4)
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((2, 2), dtype=bool))
