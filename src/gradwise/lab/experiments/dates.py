"""Neural machine translation with attention: human-readable dates to ISO dates (the course,
Sequence Models, week 3, "Neural Machine Translation").

"3 may 1979", "thursday, 3 may 1979", "5/3/79", "3. mai 1979", "03.05.79" -> "1979-05-03".
The dates come from gradwise.datasets.human_dates (Babel's formats in five locales), 10,000
for training and 1,000 held out, drawn from a seeded generator.

The course's model, with the Transformer's score:
    a<t'> = [a_fwd<t'>, a_bwd<t'>]             a bidirectional LSTM over the Tx input characters
    alpha<t, t'> = softmax over t' of (W_q s<t-1>) . a<t'> / sqrt(d)     (scaled dot product;
                                                the course scores with a small dense network)
    context<t> = sum over t' of alpha<t, t'> a<t'>          padding is masked out of the sum
    s<t> = LSTMCell(context<t>, s<t-1>)           the post-attention LSTM
    y_hat<t> = softmax(W_y s<t> + b_y)            one of 11 characters, t = 1 .. 10
The figure is the course's attention map: alpha<t, t'> for a held-out date, each output
character against the input characters it read.
"""
from __future__ import annotations

import math

import numpy as np

from ... import backend, nn, optim
from ... import functional as F
from ...autograd import no_grad
from ...data import Vocabulary, pad_sequences
from ...datasets.dates import human_dates
from ...ops import stack
from ...tensor import Tensor
from ..core import experiment
from ..plots import figure

TX, TY = 30, 10
ISO = Vocabulary("0123456789-")


class DateTranslator(nn.Module):
    """Embedding -> bidirectional LSTM (n_a per direction) -> attention -> post-attention
    LSTMCell (n_s) -> Linear to the 11 output characters, for TY steps.
    forward(ids (N, TX)) -> (logits (N, TY, 11), alphas (N, TY, TX))."""

    def __init__(self, vocab_size: int, n_e: int = 32, n_a: int = 64, n_s: int = 128):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, n_e, padding_idx=0)
        self.encoder = nn.LSTM(n_e, n_a, batch_first=True, bidirectional=True)
        self.query = nn.Linear(n_s, 2 * n_a)
        self.post = nn.LSTMCell(2 * n_a, n_s)
        self.out = nn.Linear(n_s, len(ISO))
        self.n_s = n_s

    def forward(self, ids: np.ndarray):
        N = ids.shape[0]
        a, _ = self.encoder(self.embed(ids))                   # (N, TX, 2 n_a)
        mask = (ids != 0)[:, None, :]                            # (N, 1, TX): True at characters
        s = Tensor(np.zeros((N, self.n_s), dtype=a.dtype))
        state = (s, s)
        logits, alphas = [], []
        for _ in range(TY):
            q = self.query(state[0]).unsqueeze(1)                # (N, 1, 2 n_a)
            context, alpha = F.scaled_dot_product_attention(q, a, a, attn_mask=mask, need_weights=True)
            state = self.post(context[:, 0], state)
            logits.append(self.out(state[0]))
            alphas.append(alpha[:, 0])
        return stack(logits, axis=1), stack(alphas, axis=1)


def encode(pairs, vocab):
    X = pad_sequences([vocab.encode(h) for h, _ in pairs], TX)
    Y = np.stack([ISO.encode(iso) for _, iso in pairs])
    return X, Y


def exact_match(model, X, Y) -> float:
    with model.evaluating(), no_grad():
        logits, _ = model(X)
    return float(np.mean(np.all(logits.data.argmax(-1) == Y, axis=1)))


@experiment("dates", "Date translation with attention: '3 may 1979' -> '1979-05-03'",
            "Sequence Models, week 3 (Neural Machine Translation with attention)",
            quick_note=("a model of half the width, 1,000 training and 300 held-out dates, 150 steps "
                        "(10,000, 1,000 and 600); bound 0.5 instead of 0.9"),
            headline={"exact match": "held-out exact match (fraction of dates)"})
def run(run):
    gen = np.random.default_rng(0)
    n_train, n_test = (1000, 300) if run.quick else (10_000, 1000)
    train_pairs, test_pairs = human_dates(n_train, gen), human_dates(n_test, gen)
    vocab = Vocabulary(sorted({c for h, _ in train_pairs for c in h}), specials=["<pad>", "<unk>"], unk="<unk>")
    X, Y = encode(train_pairs, vocab)
    X_test, Y_test = encode(test_pairs, vocab)
    backend.manual_seed(0)
    model = DateTranslator(len(vocab), n_a=32, n_s=64) if run.quick else DateTranslator(len(vocab))
    opt = optim.Adam(model.parameters(), lr=0.005)
    steps, batch = (150, 64) if run.quick else (600, 64)
    rng, losses = np.random.default_rng(1), []
    for _ in run.progress(range(steps), desc="steps"):
        idx = rng.integers(0, len(X), size=batch)
        logits, _ = model(X[idx])
        loss = F.cross_entropy(logits.reshape(-1, len(ISO)), Y[idx].reshape(-1))
        opt.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        losses.append(loss.item())
    acc = exact_match(model, X_test, Y_test)
    run.log(f"  held-out exact match {acc:.3f}, final training loss {np.mean(losses[-20:]):.4f}")
    run.check_bound("held-out exact match (fraction of dates)", acc, low=0.5 if run.quick else 0.9)
    run.check_bound("training loss fell below a uniform guess's log(11) / 4", np.mean(losses[-20:]),
                    high=math.log(len(ISO)) / 4)

    examples = ["3 may 1979", "tuesday 09 oct 1979", "5/3/79", "3. mai 1979", "03.05.79"]
    Xe = pad_sequences([vocab.encode(e) for e in examples], TX)
    with model.evaluating(), no_grad():
        logits, alphas = model(Xe)
    outputs = [ISO.decode(row) for row in logits.data.argmax(-1)]
    for e, o in zip(examples, outputs):
        run.log(f"  {e!r} -> {o}")
    _attention_map(run, examples[1], outputs[1], alphas.data[1])
    run.record(exact_match=acc, examples=dict(zip(examples, outputs)), final_loss=float(np.mean(losses[-20:])))


def _attention_map(run, source: str, target: str, alpha: np.ndarray) -> None:
    fig, (ax,) = figure(1, size=(7.0, 3.4))
    im = ax.imshow(alpha[:, :len(source)], cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(source)), list(source), fontsize=8)
    ax.set_yticks(range(len(target)), list(target), fontsize=8)
    ax.set_xlabel("input characters t'")
    ax.set_ylabel("output characters t")
    ax.set_title("attention map alpha<t, t'>", fontsize=9)
    fig.colorbar(im, ax=ax)
    run.savefig(fig, "attention-map")
