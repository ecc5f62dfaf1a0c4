"""Character-level language model: dinosaur names (the course, Sequence Models, week 1,
"Dinosaur Island").

An LSTM reads a name one character at a time and predicts the next one:
y_hat<t> = softmax(Wya a<t> + by), trained with cross-entropy, its gradients clipped (the
course clips at 5 against exploding gradients), then samples new names by drawing each
character from y_hat<t> and feeding it back. The corpus is 1,500 invented names built from
Greek and Latin roots (gradwise.datasets.names); 150 of them are held out.

Training reads the names as one stream ("...saurus\\nveloci..."), cut into 32 parallel
streams and chunks of 25 characters: truncated backpropagation through time, the hidden state
carried from chunk to chunk with nn.detach_state. The held-out loss is measured per character
on whole names, each from a zero state, as the course's per-name loss divided by its length.

Claims checked: the held-out loss falls from log(24) = 3.18 nats (a uniform guess) below a
stated bound; sampled names end in one of the corpus's endings ("saurus", "raptor", ...)
far more often than chance, and most are new.
"""
from __future__ import annotations

import math
import textwrap

import numpy as np

from ... import backend, nn, optim
from ... import functional as F
from ...autograd import no_grad
from ...data import Vocabulary, bptt_batches, pad_sequences
from ...datasets.names import ENDINGS, dinosaur_names
from ...models import CharRNN, sample
from ...tensor import Tensor
from ..core import experiment
from ..plots import figure, loss_curves

SEED = 1


def held_out_loss(model, vocab, names) -> float:
    """Mean cross-entropy per character (newline included) over whole names, each read from
    "\\n" with a zero state: the course's loss per name, divided by the name's length."""
    nl = vocab.stoi["\n"]
    seqs = [np.r_[nl, vocab.encode(n), nl] for n in names]
    X = pad_sequences([s[:-1] for s in seqs], max(map(len, seqs)) - 1)
    Y = pad_sequences([s[1:] for s in seqs], X.shape[1], value=-1)
    with model.evaluating(), no_grad():
        logits, _ = model(Tensor(X))
    logp = F.log_softmax(logits, axis=-1).data
    keep = Y >= 0                                       # the padding after each name does not count
    picked = np.take_along_axis(logp, np.maximum(Y, 0)[..., None], axis=-1)[..., 0]
    return float(-picked[keep].mean())


def train(model, ids, epochs, run) -> list[float]:
    opt = optim.Adam(model.parameters(), lr=0.005)
    losses = []
    for _ in run.progress(range(epochs), desc="epochs"):
        state = None
        for X, Y in bptt_batches(ids, batch_size=32, seq_len=25):
            logits, state = model(Tensor(X), state)
            state = nn.detach_state(state)           # truncated BPTT: keep the values only
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            optim.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            losses.append(loss.item())
    return losses


@experiment("dinosaurs", "Character-level language model: new dinosaur names",
            "Sequence Models, week 1 (Dinosaur Island: character-level language model)",
            quick_note="8 epochs instead of 30, bound 1.5 instead of 1.1",
            headline={"held-out loss/char": "held-out loss per character (nats)",
                      "known endings": "sampled names with a corpus ending (fraction)"})
def run(run):
    names = dinosaur_names(1500, seed=0)
    train_names, test_names = names[:-150], names[-150:]
    text = "\n".join(train_names) + "\n"
    vocab = Vocabulary(sorted(set(text)))
    ids = vocab.encode(text)
    backend.manual_seed(SEED)
    model = CharRNN(len(vocab), hidden_size=64, embedding_dim=16, cell="lstm")
    before = held_out_loss(model, vocab, test_names)
    epochs = 8 if run.quick else 30
    losses = train(model, ids, epochs, run)
    after = held_out_loss(model, vocab, test_names)
    run.log(f"  held-out loss per character: {before:.3f} -> {after:.3f} nats (uniform: {math.log(len(vocab)):.3f})")

    bound = 1.5 if run.quick else 1.1
    run.check_bound("held-out loss per character (nats)", after, high=bound)
    run.check_bound("untrained loss is near a uniform guess, log(vocabulary size) (nats)", before,
                    low=math.log(len(vocab)) - 0.3, high=math.log(len(vocab)) + 0.3)

    # the model has only seen names follow other names: prime it with one, then let it go on
    nl, prime = vocab.stoi["\n"], vocab.encode(train_names[-1] + "\n")
    gen = np.random.default_rng(SEED)
    samples = {}
    for temperature in (0.5, 1.0):
        samples[temperature] = [vocab.decode(sample(model, prime, stop_id=nl, max_len=30,
                                                    temperature=temperature, generator=gen)).strip()
                                for _ in range(40)]
        run.log(f"  temperature {temperature}: " + ", ".join(samples[temperature][:8]))
    drawn = samples[1.0]
    endings = float(np.mean([n.endswith(tuple(set(ENDINGS))) for n in drawn]))
    new = float(np.mean([n not in set(names) for n in drawn]))
    run.check_bound("sampled names with a corpus ending (fraction)", endings, low=0.3 if run.quick else 0.6)
    run.check_bound("sampled names not in the corpus (fraction)", new, low=0.3)

    fig, (ax, ax_text) = figure(2, size=(5.0, 3.6))
    loss_curves(ax, {"training chunks": losses}, title="cross-entropy per character", window=51)
    ax.axhline(after, color="k", ls="--", lw=1, label=f"held out: {after:.2f}")
    ax.legend(fontsize=8)
    ax_text.axis("off")
    lines = [f"T = {t}: " + ", ".join(s[:6]) for t, s in samples.items()]
    ax_text.text(0, 1, "\n\n".join(textwrap.fill(line, 48) for line in lines), va="top", fontsize=8, family="monospace")
    ax_text.set_title("sampled names", fontsize=9)
    run.savefig(fig, "loss-and-samples")
    run.record(held_out_loss={"before": before, "after": after}, samples={str(t): s for t, s in samples.items()},
               chunks=len(losses))

