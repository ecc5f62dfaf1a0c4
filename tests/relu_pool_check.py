"""A model that pools before its ReLU (nn.containers.relu_pool, nn.Sequential) must compute
what the order as written computes: check_same_as_written runs it both ways."""
import numpy as np

import gradwise as gw


def check_same_as_written(model, relu, X) -> list:
    """Forward and backward of `model` on X as it runs, then with a forward hook on its `relu`
    (a hooked ReLU keeps the order as written): the outputs, dX and every parameter's gradient
    must agree to the bit. Returns the shapes the hooked ReLU saw."""
    seen, runs = [], []
    for hooked in (False, True):
        if hooked:
            relu.register_forward_hook(lambda mod, inp, out: seen.append(out.shape))
        x = gw.tensor(X, requires_grad=True)
        model.zero_grad()
        y = model(x)
        y.backward(np.ones(y.shape, np.float32))
        runs.append([y.data, x.grad] + [p.grad.copy() for p in model.parameters()])
    for fused, written in zip(*runs, strict=True):
        np.testing.assert_array_equal(fused, written)
    return seen
