"""gradwise.optim: every optimizer against torch.optim, every schedule against torch's (or the
course's formula), state round trips, clipping, weighted averages."""
import math

import numpy as np
import pytest

import gradwise as gw
from gradwise import nn, optim
from gradwise.optim import lr_scheduler

torch = pytest.importorskip("torch")

# torch warns when a scheduler steps without optimizer steps, which is all the lr tests do
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of:UserWarning")

SHAPES = [(4, 3), (4,), (2, 3, 2)]


def make_params(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def grad_sequence(steps, seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]


def run_ours(cls, kwargs, values, grads, groups=None):
    ps = [gw.Tensor(v.copy(), requires_grad=True) for v in values]
    opt = cls(groups(ps) if groups else ps, **kwargs)
    for gs in grads:
        for p, g in zip(ps, gs):
            p.grad = g.copy()
        opt.step()
    return [p.data for p in ps], opt


def run_torch(cls, kwargs, values, grads, groups=None):
    ps = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    opt = cls(groups(ps) if groups else ps, **kwargs)
    for gs in grads:
        for p, g in zip(ps, gs):
            p.grad = torch.tensor(g.copy())
        opt.step()
    return [p.detach().numpy() for p in ps]


# (ours, torch, our kwargs, torch kwargs): 10 steps on the same parameters and gradients
CASES = [
    (optim.SGD, torch.optim.SGD, dict(lr=0.1), None),
    (optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9), None),
    (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01), None),
    (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1), None),
    (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.1), None),
    (optim.Adagrad, torch.optim.Adagrad,
     dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5), None),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01), None),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, beta=0.9, eps=1e-6, weight_decay=0.1),
     dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, beta=0.95, momentum=0.9, centered=True),
     dict(lr=0.01, alpha=0.95, momentum=0.9, centered=True)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.01), None),
    (optim.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), None),
    (optim.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True), None),
    (optim.AdamW, torch.optim.AdamW, dict(lr=0.01), None),
    (optim.AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.3, amsgrad=True), None),
]


@pytest.mark.parametrize("ours, theirs, kw, tkw", CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_ten_steps_match_torch(ours, theirs, kw, tkw):
    values, grads = make_params(), grad_sequence(10)
    a, _ = run_ours(ours, kw, values, grads)
    b = run_torch(theirs, tkw or kw, values, grads)
    for x, y, v in zip(a, b, values):
        assert not np.allclose(x, v)  # the parameters moved
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def test_rmsprop_has_one_name_for_its_decay_rate():
    with pytest.raises(TypeError, match="beta=0.95"):
        optim.RMSprop([nn.Parameter(np.zeros(2))], alpha=0.95)
    with pytest.raises(TypeError, match="betta"):
        optim.RMSprop([nn.Parameter(np.zeros(2))], betta=0.95)


def test_float32_parameters_stay_float32_and_match_torch():
    values, grads = make_params(dtype=np.float32), grad_sequence(10, dtype=np.float32)
    for ours, theirs, kw in [(optim.Adam, torch.optim.Adam, dict(lr=0.01)),
                             (optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9))]:
        a, opt = run_ours(ours, kw, values, grads)
        b = run_torch(theirs, kw, values, grads)
        for x, y in zip(a, b):
            assert x.dtype == np.float32
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
        assert all(v.dtype == np.float32 for s in opt.state.values() for v in s.values()
                   if isinstance(v, np.ndarray))


def test_param_groups_have_their_own_hyperparameters():
    values, grads = make_params(), grad_sequence(10)

    def groups(ps):
        return [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.001, "weight_decay": 0.5}]

    a, opt = run_ours(optim.Adam, dict(lr=0.02), values, grads, groups)
    b = run_torch(torch.optim.Adam, dict(lr=0.02), values, grads, groups)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)
    assert [g["lr"] for g in opt.param_groups] == [0.02, 0.001]
    assert opt.param_groups[0]["weight_decay"] == 0.0


def test_lr_reads_the_groups_common_lr_and_sets_every_group():
    a, b = gw.tensor(np.ones(2), requires_grad=True), gw.tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1)
    with pytest.raises(ValueError, match=r"different learning rates \[0.1, 0.01\]"):
        _ = opt.lr
    opt.lr = 0.05
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.05] and opt.lr == 0.05
    with pytest.raises(ValueError, match="lr must be a non-negative number"):
        opt.lr = -1.0
    assert opt.lr == 0.05  # a refused lr changes no group
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    sched.step()
    assert opt.lr == 0.025  # what the scheduler set is what lr reads


def test_course_momentum_is_an_exponentially_weighted_average_of_gradients():
    values, grads = make_params(), grad_sequence(10)
    lr, beta = 0.1, 0.9
    a, opt = run_ours(optim.Momentum, dict(lr=lr, beta=beta), values, grads)
    # by hand, as the course writes it
    W = [v.copy() for v in values]
    V = [np.zeros_like(v) for v in values]
    for gs in grads:
        for i, g in enumerate(gs):
            V[i] = beta * V[i] + (1 - beta) * g
            W[i] = W[i] - lr * V[i]
    for x, y in zip(a, W):
        np.testing.assert_allclose(x, y, rtol=1e-12)
    # v_course = (1 - beta) v_torch at every step (both start from zero), so it is PyTorch's
    # momentum with the lr scaled by (1 - beta) ...
    b = run_torch(torch.optim.SGD, dict(lr=lr * (1 - beta), momentum=beta), values, grads)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-10)
    # ... and not PyTorch's momentum at the same lr
    c = run_torch(torch.optim.SGD, dict(lr=lr, momentum=beta), values, grads)
    assert not np.allclose(a[0], c[0])


def test_adam_bias_correction_by_hand():
    p = gw.Tensor(np.array([1.0]), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = np.array([0.5])
    opt.step()
    # t = 1: v_hat = g, s_hat = g^2, so the first step is lr * g / (|g| + eps) ~ lr
    assert p.data[0] == pytest.approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8), rel=1e-12)
    state = opt.state[p]
    assert state["step"] == 1
    np.testing.assert_allclose(state["exp_avg"], [0.05])       # raw v = (1 - beta1) g
    np.testing.assert_allclose(state["exp_avg_sq"], [0.00025])  # raw s = (1 - beta2) g^2


def test_frozen_and_gradless_parameters_are_skipped():
    a = gw.Tensor(np.ones(3), requires_grad=True)
    b = gw.Tensor(np.ones(3), requires_grad=True)
    c = gw.Tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([a, b, c], lr=0.1)
    a.grad = np.ones(3)
    c.grad = np.ones(3)
    c.requires_grad_(False)
    opt.step()
    assert not np.array_equal(a.data, np.ones(3))
    assert np.array_equal(b.data, np.ones(3)) and np.array_equal(c.data, np.ones(3))
    assert a in opt.state and b not in opt.state and c not in opt.state


def test_state_is_updated_in_place():
    values, grads = make_params(), grad_sequence(3)
    ps = [gw.Tensor(v, requires_grad=True) for v in values]
    opt = optim.Adam(ps, lr=0.01)
    data_ids = [id(p.data) for p in ps]
    for p, g in zip(ps, grads[0]):
        p.grad = g
    opt.step()
    buffers = [id(opt.state[p]["exp_avg"]) for p in ps]
    for p, g in zip(ps, grads[1]):
        p.grad = g
    opt.step()
    assert [id(opt.state[p]["exp_avg"]) for p in ps] == buffers
    assert [id(p.data) for p in ps] == data_ids  # the parameters too: views into them stay valid
    np.testing.assert_array_equal(grads[1][0], grad_sequence(3)[1][0])  # the gradient untouched


@pytest.mark.parametrize("cls, kw", [(optim.SGD, dict(lr=0.1, momentum=0.9)),
                                     (optim.Momentum, dict(lr=0.1)),
                                     (optim.Adagrad, dict(lr=0.1)),
                                     (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
                                     (optim.Adam, dict(lr=0.01, amsgrad=True)),
                                     (optim.AdamW, dict(lr=0.01))])
def test_state_dict_round_trip_through_a_file_continues_bit_for_bit(cls, kw, tmp_path):
    values, grads = make_params(), grad_sequence(10)
    full, _ = run_ours(cls, kw, values, grads)

    half, opt = run_ours(cls, kw, values, grads[:5])
    sd = opt.state_dict()
    gw.save(sd, tmp_path / "opt.npz")
    ps = [gw.Tensor(v.copy(), requires_grad=True) for v in half]
    fresh = cls(ps, lr=123.0)  # hyperparameters come from the state dict
    fresh.load_state_dict(gw.load(tmp_path / "opt.npz"))
    assert fresh.param_groups[0]["lr"] == kw["lr"]
    for gs in grads[5:]:
        for p, g in zip(ps, gs):
            p.grad = g.copy()
        fresh.step()
    for x, y in zip(full, ps):
        assert np.array_equal(x, y.data)
    # a state dict is a snapshot: later steps do not change it
    key = next(k for k, v in sd["state"][0].items() if isinstance(v, np.ndarray))
    assert not np.array_equal(sd["state"][0][key], fresh.state[ps[0]][key])


def test_load_state_dict_errors_name_the_mismatch():
    ps = [gw.Tensor(np.ones((2, 2)), requires_grad=True)]
    opt = optim.Adam(ps)
    ps[0].grad = np.ones((2, 2))
    opt.step()
    sd = opt.state_dict()
    other = optim.Adam([gw.Tensor(np.ones(3), requires_grad=True)])
    with pytest.raises(ValueError, match=r"buffer 'exp_avg' of parameter 0 has shape \(2, 2\)"):
        other.load_state_dict(sd)
    two = optim.Adam([gw.Tensor(np.ones((2, 2)), requires_grad=True)] * 1 +
                     [gw.Tensor(np.ones(1), requires_grad=True)])
    with pytest.raises(ValueError, match="group 0 has 1 parameters in the state, 2 here"):
        two.load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"model": 1})


def test_load_state_dict_refuses_another_optimizers_state():
    def stepped(cls, **kw):
        ps = [gw.Tensor(np.ones((2, 2)), requires_grad=True)]
        opt = cls(ps, **kw)
        ps[0].grad = np.ones((2, 2))
        opt.step()
        return opt

    adam = stepped(optim.Adam, lr=0.01).state_dict()
    assert adam["class"] == "Adam"
    sgd = stepped(optim.SGD, lr=0.5, momentum=0.9)
    before = sgd.state_dict()
    with pytest.raises(ValueError, match="the state is a Adam optimizer's, this optimizer is a SGD"):
        sgd.load_state_dict(adam)
    with pytest.raises(ValueError, match="is a AdamW"):  # a subclass is another optimizer too
        stepped(optim.AdamW).load_state_dict(adam)
    # a state saved before the class name was stored: refused when its hyperparameters differ
    old = {k: v for k, v in adam.items() if k != "class"}
    with pytest.raises(ValueError, match=r"hyperparameters \['amsgrad', 'betas', 'eps', 'lr', "
                                         r"'weight_decay'\] are not a SGD's"):
        sgd.load_state_dict(old)
    after = sgd.state_dict()
    assert after["param_groups"] == before["param_groups"] and sgd.param_groups[0]["lr"] == 0.5
    assert np.array_equal(after["state"][0]["momentum_buffer"], before["state"][0]["momentum_buffer"])
    fresh = stepped(optim.Adam, lr=0.3)
    fresh.load_state_dict(old)  # unambiguous: an Adam's
    assert fresh.param_groups[0]["lr"] == 0.01
    # a hyperparameter out of range is refused before anything changes
    bad = stepped(optim.Adam, lr=0.01).state_dict()
    bad["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="lr must be a non-negative"):
        fresh.load_state_dict(bad)
    assert fresh.param_groups[0]["lr"] == 0.01


def test_scheduler_load_state_dict_refuses_another_schedulers_state():
    opt = optim.SGD([gw.zeros(1, requires_grad=True)], lr=0.1)
    step = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5).state_dict()
    expo = lr_scheduler.ExponentialLR(opt, gamma=0.9)
    before = expo.state_dict()
    with pytest.raises(ValueError, match="the state is a StepLR's, this scheduler is a ExponentialLR"):
        expo.load_state_dict(step)
    old = {k: v for k, v in lr_scheduler.ExponentialLR(opt, gamma=0.5).state_dict().items()
           if k != "class"}
    with pytest.raises(ValueError, match=r"lacks \['step_size'\]"):
        lr_scheduler.StepLR(opt, step_size=3).load_state_dict(old)
    assert expo.state_dict() == before
    expo.load_state_dict(old)
    assert expo.gamma == 0.5


def test_constructor_errors():
    p = gw.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="lr must be a non-negative"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta1 must be in"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="more than one group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="dtype int64"):
        optim.SGD([gw.Tensor(np.ones(2, dtype=np.int64))], lr=0.1)


def test_zero_grad_and_closure():
    model = nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    X = gw.randn(5, 3)

    def closure():
        opt.zero_grad()
        loss = (model(X) ** 2).mean()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert isinstance(loss, gw.Tensor) and model.W.grad is not None
    opt.zero_grad(set_to_none=False)
    assert np.array_equal(model.W.grad, np.zeros((1, 3)))
    opt.zero_grad()
    assert model.W.grad is None


# ---- schedules -------------------------------------------------------------------------------
def lrs(sched, opt, epochs, metrics=None):
    out = []
    for e in range(epochs):
        out.append([g["lr"] for g in opt.param_groups])
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[e])
    return out


def two_groups(lib):
    if lib == "torch":
        ps = [torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)]
        return torch.optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.5}], lr=0.1)
    ps = [gw.zeros(2, requires_grad=True), gw.zeros(2, requires_grad=True)]
    return optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.5}], lr=0.1)


SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (e + 1) ** 0.5)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),
]


@pytest.mark.parametrize("name, kw", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedule_sequence_matches_torch(name, kw):
    ours_opt, torch_opt = two_groups("gw"), two_groups("torch")
    ours = getattr(lr_scheduler, name)(ours_opt, **kw)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **kw)
    a, b = lrs(ours, ours_opt, 25), lrs(theirs, torch_opt, 25)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert len({tuple(x) for x in a}) > 3  # the lr did change
    np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)


def test_reduce_lr_on_plateau_matches_torch():
    rng = np.random.default_rng(0)
    # a loss that improves, stalls, improves a little, stalls again
    metric = np.concatenate([np.linspace(1, 0.5, 5), np.full(6, 0.5), 0.5 - 1e-6 * np.arange(4),
                             rng.uniform(0.4, 0.6, 15)]).tolist()
    for kw in [dict(factor=0.5, patience=2), dict(factor=0.5, patience=1, cooldown=2, min_lr=0.02),
               dict(mode="max", factor=0.3, patience=0, threshold=0.05, threshold_mode="abs")]:
        ours_opt, torch_opt = two_groups("gw"), two_groups("torch")
        ours = lr_scheduler.ReduceLROnPlateau(ours_opt, **kw)
        theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **kw)
        a, b = lrs(ours, ours_opt, len(metric), metric), lrs(theirs, torch_opt, len(metric), metric)
        np.testing.assert_allclose(a, b, rtol=1e-12)
        assert a[-1] != a[0]
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)


def test_inverse_time_decay_is_the_course_formula():
    opt = optim.SGD([gw.zeros(1, requires_grad=True)], lr=0.2)
    sched = lr_scheduler.InverseTimeDecay(opt, decay_rate=1.0)
    got = [x[0] for x in lrs(sched, opt, 5)]
    # the course's update_lr(0.2, epoch_num, 1) for epoch_num = 0, 1, 2, ...
    np.testing.assert_allclose(got, [0.2, 0.1, 0.2 / 3, 0.05, 0.04], rtol=1e-12)
    # fixed interval: the course's schedule_lr_decay(lr0, epoch, decay_rate, time_interval)
    opt = optim.SGD([gw.zeros(1, requires_grad=True)], lr=0.1)
    sched = lr_scheduler.InverseTimeDecay(opt, decay_rate=0.3, time_interval=4)
    got = [x[0] for x in lrs(sched, opt, 12)]
    want = [0.1 / (1 + 0.3 * math.floor(e / 4)) for e in range(12)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[3] == got[0] and got[4] < got[3]


def test_inverse_sqrt_decay_is_the_course_formula():
    opt = optim.SGD([gw.zeros(1, requires_grad=True)], lr=0.4)
    sched = lr_scheduler.InverseSqrtDecay(opt, k=0.5)
    got = [x[0] for x in lrs(sched, opt, 4)]
    # k / sqrt(epoch_num) * alpha0 with epoch_num = 1, 2, 3, 4
    np.testing.assert_allclose(got, [0.2, 0.2 / math.sqrt(2), 0.2 / math.sqrt(3), 0.1], rtol=1e-12)


@pytest.mark.parametrize("make", [
    lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=7),
    lambda o: lr_scheduler.InverseTimeDecay(o, decay_rate=0.5, time_interval=2),
    lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=0, factor=0.5),
])
def test_scheduler_state_dict_resumes(make, tmp_path):
    metric = [1.0, 0.9, 0.95, 0.97, 0.8, 0.85, 0.86, 0.9]
    plateau = lambda s: isinstance(s, lr_scheduler.ReduceLROnPlateau)  # noqa: E731

    def advance(s, o, n, offset=0):
        out = []
        for e in range(n):
            s.step(metric[offset + e]) if plateau(s) else s.step()
            out.append(o.param_groups[0]["lr"])
        return out

    opt = optim.SGD([gw.zeros(1, requires_grad=True)], lr=0.1)
    sched = make(opt)
    full = advance(sched, opt, 8)

    opt = optim.SGD([gw.zeros(1, requires_grad=True)], lr=0.1)
    sched = make(opt)
    first = advance(sched, opt, 4)
    gw.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.npz")
    ck = gw.load(tmp_path / "s.npz")
    opt2 = optim.SGD([gw.zeros(1, requires_grad=True)], lr=0.1)
    sched2 = make(opt2)
    opt2.load_state_dict(ck["opt"])
    sched2.load_state_dict(ck["sched"])
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert first + advance(sched2, opt2, 4, offset=4) == full


def test_scheduler_errors():
    opt = optim.SGD([gw.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="time_interval"):
        lr_scheduler.InverseTimeDecay(opt, decay_rate=1, time_interval=0)
    with pytest.raises(TypeError, match="gradwise Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="factor"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    sched = lr_scheduler.LambdaLR(opt, lambda e: 1 - 2 * e)
    with pytest.raises(ValueError, match="lr -0.1 at epoch 1"):
        sched.step()


# ---- clipping ---------------------------------------------------------------------------------
def test_clip_grad_norm_matches_torch():
    for max_norm, norm_type in [(1.0, 2.0), (0.5, 1.0), (0.3, float("inf")), (100.0, 2.0), (1.0, 3.0)]:
        grads = grad_sequence(1, seed=4)[0]
        ps = [gw.Tensor(np.zeros(g.shape), requires_grad=True) for g in grads]
        tps = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for p, t, g in zip(ps, tps, grads):
            p.grad, t.grad = g.copy(), torch.tensor(g)
        total = optim.clip_grad_norm_(ps, max_norm, norm_type)
        ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type)
        assert total == pytest.approx(float(ttotal), rel=1e-12)
        for p, t in zip(ps, tps):
            np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)
    flat = np.concatenate([p.grad.ravel() for p in ps])
    assert np.abs(flat).max() > 0


def test_clip_grad_norm_rescales_to_max_norm_and_flags_nonfinite():
    p = gw.Tensor(np.zeros(2), requires_grad=True)
    p.grad = np.array([3.0, 4.0])
    assert optim.clip_grad_norm_([p], 1.0) == 5.0
    assert np.linalg.norm(p.grad) == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(p.grad / np.linalg.norm(p.grad), [0.6, 0.8])  # direction kept
    p.grad = np.array([np.nan, 1.0])
    with pytest.raises(FloatingPointError, match="total gradient norm is nan"):
        optim.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    p = gw.Tensor(np.zeros(4), requires_grad=True)
    q = gw.Tensor(np.zeros(1), requires_grad=True)  # no gradient: left alone
    p.grad = np.array([-3.0, -0.5, 0.2, 7.0])
    optim.clip_grad_value_([p, q], 1.0)
    np.testing.assert_array_equal(p.grad, [-1.0, -0.5, 0.2, 1.0])
    assert q.grad is None


# ---- weighted averages --------------------------------------------------------------------------
def test_exponentially_weighted_average_with_and_without_bias_correction():
    theta = np.array([10.0, 12.0, 11.0, 15.0, 14.0])
    beta = 0.9
    v, raw, corrected = 0.0, [], []
    for t, x in enumerate(theta, start=1):
        v = beta * v + (1 - beta) * x
        raw.append(v)
        corrected.append(v / (1 - beta ** t))
    np.testing.assert_allclose(optim.ewa(theta, beta), corrected, rtol=1e-12)
    np.testing.assert_allclose(optim.ewa(theta, beta, bias_correction=False), raw, rtol=1e-12)
    # the bias: the raw average starts far below the data, the corrected one does not
    assert raw[0] == pytest.approx(1.0) and corrected[0] == pytest.approx(10.0)
    avg = optim.ExponentiallyWeightedAverage(0.5)
    with pytest.raises(ValueError, match="no value"):
        _ = avg.value
    out = [avg.update(np.array([x, 2 * x])) for x in (1.0, 3.0)]
    np.testing.assert_allclose(out[-1], [(0.25 * 1 + 0.5 * 3) / 0.75, (0.25 * 2 + 0.5 * 6) / 0.75])
    with pytest.raises(ValueError, match="beta must be in"):
        optim.ExponentiallyWeightedAverage(1.0)


# ---- penalties ---------------------------------------------------------------------------------
def test_l2_penalty_is_the_course_cost_term_and_excludes_biases():
    gw.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    W1, W2 = model[0].W.data, model[3].W.data
    lambd, m = 0.7, 10
    want = lambd / (2 * m) * (np.sum(W1.astype(np.float64) ** 2) + np.sum(W2.astype(np.float64) ** 2))
    assert optim.l2_penalty(model, lambd, m).item() == pytest.approx(want, rel=1e-6)
    want1 = lambd / m * (np.abs(W1).sum() + np.abs(W2).sum())
    assert optim.l1_penalty(model, lambd, m).item() == pytest.approx(want1, rel=1e-6)
    # gradients: (lambd / m) W and (lambd / m) sign(W); biases and gamma/beta get none
    optim.l2_penalty(model, lambd, m).backward()
    np.testing.assert_allclose(model[0].W.grad, lambd / m * W1, rtol=1e-6)
    assert model[0].b.grad is None and model[1].gamma.grad is None
    model.zero_grad()
    optim.l1_penalty(model, lambd, m).backward()
    np.testing.assert_allclose(model[3].W.grad, lambd / m * np.sign(W2), rtol=1e-6)
    # frozen layers are not penalized; a list of tensors is used as given
    model[0].requires_grad_(False)
    assert optim.l2_penalty(model, lambd, m).item() == pytest.approx(
        lambd / (2 * m) * np.sum(W2.astype(np.float64) ** 2), rel=1e-6)
    b = model[3].b
    assert optim.l1_penalty([b], 2.0, 4).item() == pytest.approx(np.abs(b.data).sum() / 2, rel=1e-6)


def test_l2_penalty_step_equals_weight_decay_on_the_weights():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 5)), rng.integers(0, 3, 16)
    lambd, lr = 0.8, 0.1
    runs = []
    for how in ("penalty", "weight_decay"):
        gw.manual_seed(1)
        model = nn.Sequential(nn.Linear(5, 6, dtype=np.float64), nn.Tanh(),
                              nn.Linear(6, 3, dtype=np.float64))
        if how == "penalty":
            opt = optim.SGD(model.parameters(), lr=lr)
        else:
            weights = [p for p in model.parameters() if p.ndim >= 2]
            biases = [p for p in model.parameters() if p.ndim < 2]
            opt = optim.SGD([{"params": weights, "weight_decay": lambd / len(X)},
                             {"params": biases}], lr=lr)
        for _ in range(5):
            loss = gw.functional.cross_entropy(model(gw.tensor(X)), gw.tensor(y))
            if how == "penalty":
                loss = loss + optim.l2_penalty(model, lambd, len(X))
            opt.zero_grad()
            loss.backward()
            opt.step()
        runs.append([p.data for p in model.parameters()])
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_penalty_errors():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="m \\(the number of examples\\)"):
        optim.l2_penalty(model, 0.1, 0)
    with pytest.raises(ValueError, match="lambd must be >= 0"):
        optim.l1_penalty(model, -1.0, 5)
    with pytest.raises(ValueError, match="no trainable weights"):
        optim.l2_penalty(nn.BatchNorm1d(3), 0.1, 5)
    with pytest.raises(TypeError, match="item 0 is a ndarray"):
        optim.l2_penalty([np.ones(2)], 0.1, 5)
