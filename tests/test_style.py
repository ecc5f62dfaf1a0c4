"""Neural style transfer: the costs against hand-computed values, their gradchecks, the
gradient with respect to the input image against PyTorch, the feature network, both costs
falling over the iterations, image files, and the `gradwise style` command."""
import numpy as np
import pytest
from click.testing import CliRunner

import gradwise as gw
from gradwise.check import gradcheck
from gradwise.vision.image_files import from_batch, load_image, save_image, to_batch
from gradwise.vision.style import (
    FeatureNet,
    StyleConfig,
    content_cost,
    example_content,
    example_style,
    gram_matrix,
    layer_style_cost,
    style_cost,
    total_cost,
    total_variation,
    transfer_style,
)


def t64(a, requires_grad=False):
    return gw.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


@pytest.fixture
def float64():
    old = gw.get_default_dtype()
    gw.set_default_dtype(np.float64)
    yield
    gw.set_default_dtype(old)


# ---- the costs by hand ------------------------------------------------------------------------
def test_gram_matrix_by_hand():
    # two channels of a 1 x 2 image: A = [[1, 2], [3, 4]], G = A A^T
    A = t64([[[[1, 2]], [[3, 4]]]])
    np.testing.assert_allclose(gram_matrix(A).data, [[[5, 11], [11, 25]]])
    B = np.random.default_rng(0).standard_normal((3, 4, 5, 6))
    flat = B.reshape(3, 4, 30)
    np.testing.assert_allclose(gram_matrix(t64(B)).data, flat @ flat.transpose(0, 2, 1))


def test_content_cost_by_hand():
    # n_C = n_H = n_W = 2: sum of eight squared ones over 4 * 2 * 2 * 2 = 32
    assert float(content_cost(t64(np.ones((1, 2, 2, 2))), t64(np.zeros((1, 2, 2, 2)))).data) == 0.25
    a_C = t64([[[[1, 2, 3]]]])                   # n_C = 1, n_H = 1, n_W = 3
    a_G = t64([[[[0, 2, 5]]]])                   # (1 + 0 + 4) / (4 * 3)
    assert float(content_cost(a_C, a_G).data) == pytest.approx(5 / 12)


def test_layer_style_cost_by_hand():
    a_S = t64([[[[1, 2]], [[3, 4]]]])           # G_S = [[5, 11], [11, 25]]
    a_G = t64(np.zeros((1, 2, 1, 2)))           # G_G = 0
    # (25 + 121 + 121 + 625) / (4 n_C^2 (n_H n_W)^2) = 892 / (4 * 4 * 4)
    assert float(layer_style_cost(a_S, a_G).data) == pytest.approx(892 / 64)
    a_G = t64([[[[1, 0]], [[0, 1]]]])           # G_G = I: (16 + 121 + 121 + 576) / 64
    assert float(layer_style_cost(a_S, a_G).data) == pytest.approx(834 / 64)


def test_style_cost_weighs_layers_and_total_cost():
    a_S = {"a": t64([[[[1, 2]], [[3, 4]]]]), "b": t64(np.ones((1, 1, 2, 2)))}
    a_G = {"a": t64(np.zeros((1, 2, 1, 2))), "b": t64(np.zeros((1, 1, 2, 2)))}
    # layer b: G_S = [[4]], (16) / (4 * 1 * 16) = 0.25
    J = style_cost(a_S, a_G, [("a", 0.5), ("b", 2.0)])
    assert float(J.data) == pytest.approx(0.5 * 892 / 64 + 2.0 * 0.25)
    assert float(style_cost(a_S, a_G, [("b", 1.0)]).data) == pytest.approx(0.25)
    assert float(total_cost(t64(2.0), t64(3.0)).data) == pytest.approx(10 * 2 + 40 * 3)
    assert float(total_cost(t64(2.0), t64(3.0), alpha=1, beta=0.5).data) == pytest.approx(3.5)


def test_cost_errors():
    a = t64(np.zeros((1, 2, 3, 3)))
    with pytest.raises(ValueError, match="differ in shape"):
        content_cost(a, t64(np.zeros((1, 2, 3, 4))))
    with pytest.raises(ValueError, match=r"\(m, n_C, n_H, n_W\)"):
        gram_matrix(t64(np.zeros((2, 3))))
    with pytest.raises(KeyError, match="no activations of layer 'conv9_1'"):
        style_cost({"x": a}, {"x": a}, [("conv9_1", 1.0)])
    with pytest.raises(ValueError, match="finite number >= 0"):
        style_cost({"x": a}, {"x": a}, [("x", -1.0)])


# ---- gradchecks -------------------------------------------------------------------------------
def test_cost_gradchecks():
    rng = np.random.default_rng(1)
    a1, a2 = rng.standard_normal((1, 3, 4, 5)), rng.standard_normal((1, 3, 4, 5))
    gradcheck(gram_matrix, [rng.standard_normal((2, 3, 2, 4))])
    gradcheck(content_cost, [a1, a2])
    gradcheck(layer_style_cost, [a1, a2])
    b1, b2 = rng.standard_normal((1, 2, 3, 3)), rng.standard_normal((1, 2, 3, 3))
    gradcheck(lambda x1, y1, x2, y2: total_cost(
        content_cost(x1, y1), style_cost({"p": x1, "q": x2}, {"p": y1, "q": y2},
                                         [("p", 0.3), ("q", 0.7)]), 10, 40), [a1, a2, b1, b2])


def _small_net(seed=0):
    return FeatureNet(blocks=((3,), (4, 4)), seed=seed)


def test_total_cost_gradcheck_with_respect_to_the_input_image(float64):
    net = _small_net()
    rng = np.random.default_rng(2)
    C, S = rng.random((1, 3, 6, 6)), rng.random((1, 3, 6, 6))
    layers = [("conv1_1", 0.5), ("conv2_2", 0.5)]
    with gw.no_grad():
        a_C = net(t64(C), ["conv2_1"])["conv2_1"]
        a_S = net(t64(S), ["conv1_1", "conv2_2"])

    def J(G):
        a_G = net(G)
        return total_cost(content_cost(a_C, a_G["conv2_1"]), style_cost(a_S, a_G, layers))

    gradcheck(J, [rng.random((1, 3, 6, 6))])


def test_input_gradient_matches_torch(float64):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    net = FeatureNet(blocks=((4, 4), (6,)), seed=3)
    rng = np.random.default_rng(3)
    C, S, G0 = (rng.random((1, 3, 8, 8)) for _ in range(3))
    style_layers = [("conv1_1", 0.4), ("conv2_1", 0.6)]

    with gw.no_grad():
        a_C = net(t64(C), ["conv1_2"])["conv1_2"]
        a_S = net(t64(S))
    G = t64(G0, requires_grad=True)
    a_G = net(G)
    J = total_cost(content_cost(a_C, a_G["conv1_2"]), style_cost(a_S, a_G, style_layers))
    J.backward()

    Ws = [torch.tensor(getattr(net, n).W.data) for n in ("conv1_1", "conv1_2", "conv2_1")]

    def feats(x):
        x = x - 0.5
        c11 = tF.relu(tF.conv2d(x, Ws[0], padding=1))
        c12 = tF.relu(tF.conv2d(c11, Ws[1], padding=1))
        c21 = tF.relu(tF.conv2d(tF.avg_pool2d(c12, 2), Ws[2], padding=1))
        return {"conv1_1": c11, "conv1_2": c12, "conv2_1": c21}

    def gram(a):
        A = a.reshape(a.shape[1], -1)
        return A @ A.T

    with torch.no_grad():
        tC, tS = feats(torch.tensor(C)), feats(torch.tensor(S))
    tG = torch.tensor(G0, requires_grad=True)
    fG = feats(tG)
    n_C, n_H, n_W = fG["conv1_2"].shape[1:]
    Jc = ((tC["conv1_2"] - fG["conv1_2"]) ** 2).sum() / (4 * n_H * n_W * n_C)
    Js = 0
    for name, w in style_layers:
        n_C, n_H, n_W = fG[name].shape[1:]
        Js = Js + w * ((gram(tS[name]) - gram(fG[name])) ** 2).sum() / (4 * n_C ** 2 * (n_H * n_W) ** 2)
    Jt = 10 * Jc + 40 * Js
    Jt.backward()
    assert float(J.data) == pytest.approx(Jt.item(), rel=1e-10)
    np.testing.assert_allclose(G.grad, tG.grad.numpy(), rtol=1e-8, atol=1e-12)


# ---- the feature network ----------------------------------------------------------------------
def test_feature_net_layers_and_weights():
    net = FeatureNet()
    assert net.layer_names == ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2",
                               "conv4_1"]
    out = net(gw.rand(1, 3, 32, 32), ["conv1_2", "conv3_1", "conv4_1"])
    assert {k: v.shape for k, v in out.items()} == {
        "conv1_2": (1, 32, 32, 32), "conv3_1": (1, 128, 8, 8), "conv4_1": (1, 128, 4, 4)}
    assert all(not p.requires_grad for p in net.parameters())
    # the weights depend on the seed alone, not on gradwise's generator
    gw.manual_seed(123)
    again = FeatureNet()
    for p, q in zip(net.parameters(), again.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert not np.array_equal(FeatureNet(seed=1).conv1_1.W.data, net.conv1_1.W.data)
    # He scaling: the activations keep their scale through the layers
    a = FeatureNet(blocks=((32, 32, 32, 32),))(gw.rand(1, 3, 32, 32))
    rms = [float(np.sqrt((v.data ** 2).mean())) for v in a.values()]
    assert max(rms) / min(rms) < 4
    with pytest.raises(KeyError, match="no layer 'conv5_1'"):
        net(gw.rand(1, 3, 8, 8), ["conv5_1"])
    with pytest.raises(ValueError, match=r"FeatureNet: expected images \(m, 3, H, W\)"):
        net(gw.rand(1, 1, 8, 8))


# ---- the optimization -------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_both_costs_fall_over_the_iterations(optimizer):
    """From white noise (Gatys et al.), the content and the style cost both fall, with the
    default network and layers on a 32 x 32 image (beta = 100: at this size the default 400
    lets the style term outweigh the content term tenfold at the start)."""
    C, S = example_content(32), example_style(32)
    config = StyleConfig(iterations=30, optimizer=optimizer, lr=0.05, init="noise", alpha=10,
                         beta=100, tv_weight=0.0)
    r = transfer_style(C, S, config, progress=False)
    assert len(r.J) == len(r.J_content) == len(r.J_style) == 31
    assert r.J_content[-1] < 0.7 * r.J_content[0]
    assert r.J_style[-1] < 0.3 * r.J_style[0]
    assert r.J[-1] < 0.4 * r.J[0]
    if optimizer == "lbfgs":                  # a line search: every accepted step goes down
        assert np.all(np.diff(r.J) <= 1e-6 * r.J[0])
    assert r.image.shape == (32, 32, 3) and r.image.dtype == np.float32
    assert 0.0 <= r.image.min() and r.image.max() <= 1.0
    # J is alpha J_content + beta J_style throughout
    np.testing.assert_allclose(r.J, 10 * np.array(r.J_content) + 100 * np.array(r.J_style), rtol=1e-5)
    assert "iterations" in r.summary()


def test_total_variation_by_hand_and_in_the_cost():
    X = t64(np.zeros((1, 1, 2, 3)))
    X.data[0, 0] = [[0, 1, 3], [2, 2, 2]]
    # vertical: 2^2 + 1^2 + 1^2 = 6; horizontal: 1 + 4 + 0 + 0 = 5; per pixel: 11 / 6
    assert float(total_variation(X).data) == pytest.approx(11 / 6)
    gradcheck(total_variation, [np.random.default_rng(5).random((2, 3, 4, 5))])
    C, S = example_content(16), example_style(16)
    net = FeatureNet(blocks=((4,), (4,)))
    kw = {"iterations": 1, "optimizer": "adam", "content_layer": "conv2_1",
          "style_layers": [("conv1_1", 1.0)]}
    with_tv = transfer_style(C, S, StyleConfig(tv_weight=0.5, **kw), net=net, progress=False)
    without = transfer_style(C, S, StyleConfig(tv_weight=0.0, **kw), net=net, progress=False)
    G0 = np.clip(C + np.random.default_rng(0).uniform(-0.25, 0.25, C.shape), 0, 1)
    tv0 = float(total_variation(t64(to_batch(G0, np.float64))).data)
    assert with_tv.J[0] - without.J[0] == pytest.approx(0.5 * tv0, rel=1e-4)


def test_from_the_content_image_the_style_cost_falls():
    """The course's start (content plus noise): the content cost begins near 0 and the style
    pulls the image away from it, while the total and the style cost fall."""
    C, S = example_content(24), example_style(24)
    net = FeatureNet(blocks=((8,), (16,)))
    seen = []
    config = StyleConfig(iterations=10, init="content", content_layer="conv2_1",
                         style_layers=[("conv1_1", 0.5), ("conv2_1", 0.5)])
    r = transfer_style(C, S, config, net=net, progress=False,
                       callback=lambda i, img: seen.append((i, img.shape)))
    assert r.J[-1] < r.J[0] and r.J_style[-1] < r.J_style[0]
    assert seen and seen[0] == (0, (24, 24, 3))


def test_transfer_style_errors():
    C = example_content(16)
    with pytest.raises(ValueError, match="same size"):
        transfer_style(C, example_style(20), progress=False)
    with pytest.raises(ValueError, match=r"floats in \[0, 1\]"):
        transfer_style(C * 255, C, progress=False)
    with pytest.raises(ValueError, match=r"must be \(H, W, 3\)"):
        transfer_style(C[..., 0], C, progress=False)
    with pytest.raises(TypeError, match="config must be a StyleConfig"):
        transfer_style(C, C, {"iterations": 3}, progress=False)


def test_style_config_checks_its_fields_when_made():
    with pytest.raises(ValueError, match="StyleConfig: optimizer must be one of"):
        StyleConfig(optimizer="sgd")
    with pytest.raises(ValueError, match="init must be one of"):
        StyleConfig(init="zeros")
    with pytest.raises(ValueError, match="iterations must be a positive integer"):
        StyleConfig(iterations=0)
    with pytest.raises(ValueError, match="beta must be a finite number"):
        StyleConfig(beta=float("inf"))
    with pytest.raises(ValueError, match="style_layers"):
        StyleConfig(style_layers=[("conv1_1", -1.0)])
    assert StyleConfig(style_layers=[["conv1_1", 1]]).style_layers == (("conv1_1", 1.0),)


# ---- image files ------------------------------------------------------------------------------
def test_image_round_trip_and_resizing(tmp_path):
    img = example_style(40)[:30]                            # 30 x 40
    save_image(img, tmp_path / "a.png")
    back = load_image(tmp_path / "a.png")
    assert back.shape == (30, 40, 3) and back.dtype == np.float32
    np.testing.assert_allclose(back, np.round(img * 255) / 255, atol=1e-6)
    assert load_image(tmp_path / "a.png", size=20).shape == (15, 20, 3)     # longer side 20
    assert load_image(tmp_path / "a.png", size=(16, 16)).shape == (16, 16, 3)  # centre crop
    save_image(img, tmp_path / "a.jpg")
    assert np.abs(load_image(tmp_path / "a.jpg") - img).mean() < 0.05
    np.testing.assert_array_equal(from_batch(to_batch(img)), img)


def test_grey_and_transparent_images(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((4, 5), 128, np.uint8), "L").save(tmp_path / "g.png")
    grey = load_image(tmp_path / "g.png")
    assert grey.shape == (4, 5, 3) and np.allclose(grey, 128 / 255)
    rgba = np.zeros((2, 2, 4), np.uint8)                     # fully transparent black
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    np.testing.assert_allclose(load_image(tmp_path / "t.png"), 1.0)         # on white


def test_image_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no image file"):
        load_image(tmp_path / "missing.png")
    (tmp_path / "x.png").write_text("not an image")
    with pytest.raises(ValueError, match="not an image file"):
        load_image(tmp_path / "x.png")
    with pytest.raises(ValueError, match="channels last"):
        save_image(np.zeros((3, 8, 8)), tmp_path / "o.png")
    with pytest.raises(ValueError, match=r"write \.png or \.jpg"):
        save_image(np.zeros((8, 8, 3)), tmp_path / "o.gif")
    with pytest.raises(FileNotFoundError, match="no directory"):
        save_image(np.zeros((8, 8, 3)), tmp_path / "nowhere" / "o.png")
    assert not list(tmp_path.glob(".*.tmp"))                 # no half-written file left


# ---- the command ------------------------------------------------------------------------------
def test_style_command(tmp_path):
    from gradwise.cli import main

    save_image(example_content(40), tmp_path / "content.png")
    save_image(example_style(64), tmp_path / "style.jpg")
    out = tmp_path / "out.png"
    res = CliRunner().invoke(main, ["style", str(tmp_path / "content.png"), str(tmp_path / "style.jpg"),
                                    "-o", str(out), "--size", "24", "--iterations", "3",
                                    "--costs", str(tmp_path / "costs.json")])
    assert res.exit_code == 0, res.output
    assert load_image(out).shape == (24, 24, 3)
    assert "J_content" in res.output and "J_style" in res.output
    import json

    costs = json.loads((tmp_path / "costs.json").read_text())
    assert len(costs["J"]) == 4 and costs["J"][-1] < costs["J"][0]


def test_style_command_paints_the_built_in_example_without_images(tmp_path):
    from gradwise.cli import main

    out = tmp_path / "house.png"
    res = CliRunner().invoke(main, ["style", "-o", str(out), "--size", "16", "--iterations", "2",
                                    "--no-progress"])
    assert res.exit_code == 0, res.output
    assert load_image(out).shape == (16, 16, 3)
    np.testing.assert_allclose(load_image(tmp_path / "house-content.png"), example_content(16),
                               atol=1 / 255)               # the inputs, written beside it
    np.testing.assert_allclose(load_image(tmp_path / "house-style.png"), example_style(16),
                               atol=1 / 255)


def test_style_command_errors(tmp_path):
    from gradwise.cli import main

    save_image(example_content(16), tmp_path / "c.png")
    res = CliRunner().invoke(main, ["style", str(tmp_path / "c.png"), str(tmp_path / "nope.png"),
                                    "-o", str(tmp_path / "o.png")])
    assert res.exit_code != 0 and "nope.png" in res.output
    res = CliRunner().invoke(main, ["style", str(tmp_path / "c.png"), str(tmp_path / "c.png"),
                                    "-o", str(tmp_path / "o.png"), "--style-layers", "conv1_1=x"])
    assert res.exit_code != 0 and "--style-layers" in res.output
    res = CliRunner().invoke(main, ["style", str(tmp_path / "c.png"), "-o", str(tmp_path / "o.png")])
    assert res.exit_code != 0 and "give both CONTENT and STYLE" in res.output
