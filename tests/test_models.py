"""The CNN model zoo: exact parameter counts, a forward and backward pass through every
architecture, residual and inception blocks, and transfer learning (freeze, new head,
partial state dicts)."""
import numpy as np
import pytest
from relu_pool_check import check_same_as_written

import gradwise as gw
import gradwise.functional as F
from gradwise import nn
from gradwise.models import (
    VGG16,
    AlexNet,
    BasicBlock,
    Bottleneck,
    ConvolutionalBlock,
    DeepConvNet,
    IdentityBlock,
    InceptionModule,
    LeNet5,
    SimpleConvNet,
    SmallGoogLeNet,
    SmallResNet,
    bottleneck_multiplies,
    conv_multiplies,
    freeze,
    replace_head,
    resnet18,
    resnet34,
    resnet50,
    trainable_parameters,
    unfreeze,
)


@pytest.fixture(autouse=True)
def _seed():
    gw.manual_seed(0)


# the full-size models are big (AlexNet 62M, VGG-16 138M parameters): build each once
@pytest.fixture(scope="module")
def alexnet():
    gw.manual_seed(1)
    return AlexNet()


@pytest.fixture(scope="module")
def vgg16():
    gw.manual_seed(2)
    return VGG16()


@pytest.fixture(scope="module")
def resnets():
    gw.manual_seed(3)
    return {"resnet18": resnet18(), "resnet34": resnet34(), "resnet50": resnet50()}


def forward_backward(model, input_shape, batch=2):
    """One training step's forward and backward; returns the scores."""
    model.train()
    model.zero_grad()
    X = gw.randn(batch, *input_shape)
    scores = model(X)
    labels = np.arange(batch) % scores.shape[1]
    F.cross_entropy(scores, labels).backward()
    return scores


def assert_every_parameter_has_grad(model):
    total = 0.0
    for name, p in model.named_parameters():
        assert p.grad is not None, f"{name} received no gradient"
        assert p.grad.shape == p.shape, f"{name}: grad {p.grad.shape} vs parameter {p.shape}"
        assert p.grad.dtype == p.dtype == np.float32, f"{name}: {p.grad.dtype} grad, {p.dtype} parameter"
        assert np.isfinite(p.grad).all(), name
        total += float(np.abs(p.grad).sum())
    assert total > 0


# ---- parameter counts ---------------------------------------------------------------------
def test_alexnet_parameter_count(alexnet):
    assert alexnet.num_parameters() == 62_378_344


def test_vgg16_parameter_count(vgg16):
    assert vgg16.num_parameters() == 138_357_544
    convs = sum(m.W.size + m.b.size for m in vgg16.features if isinstance(m, nn.Conv2d))
    assert convs == 14_714_688
    assert sum(isinstance(m, nn.Conv2d) for m in vgg16.features) == 13
    assert all(m.kernel_size == (3, 3) and m.padding == 1 for m in vgg16.features
               if isinstance(m, nn.Conv2d))
    assert all(m.kernel_size == 2 for m in vgg16.features if isinstance(m, nn.MaxPool2d))


@pytest.mark.parametrize("name,count", [("resnet18", 11_689_512), ("resnet34", 21_797_672),
                                        ("resnet50", 25_557_032)])
def test_resnet_parameter_counts_match_torchvision(resnets, name, count):
    assert resnets[name].num_parameters() == count


@pytest.mark.parametrize("kwargs", [{}, {"activation": "relu", "pooling": "max"},
                                    {"input_size": 28}])
def test_lenet5_parameter_count(kwargs):
    assert LeNet5(**kwargs).num_parameters() == 61_706


def test_book_convnet_parameter_counts():
    assert SimpleConvNet(input_dim=(1, 28, 28)).num_parameters() == 433_890
    assert DeepConvNet().num_parameters() == 123_552


def test_small_model_parameter_counts():
    assert SmallResNet().num_parameters() == 174_970
    assert SmallResNet(in_channels=3, blocks_per_stage=3).num_parameters() == 272_474  # ResNet-20
    assert SmallGoogLeNet().num_parameters() == 60_114
    assert VGG16(num_classes=10, input_size=32).num_parameters() == 33_638_218
    # GoogLeNet's inception (3a)
    assert InceptionModule(192, 64, 96, 128, 16, 32, 32).num_parameters() == 163_696


# ---- forward and backward through every architecture ----------------------------------------
SMALL_MODELS = [
    ("SimpleConvNet", lambda: SimpleConvNet(), (1, 28, 28), 10),
    ("DeepConvNet", lambda: DeepConvNet(), (1, 28, 28), 10),
    ("LeNet5-classic", lambda: LeNet5(), (1, 32, 32), 10),
    ("LeNet5-modern", lambda: LeNet5(activation="relu", pooling="max"), (1, 32, 32), 10),
    ("LeNet5-mnist", lambda: LeNet5(input_size=28), (1, 28, 28), 10),
    ("AlexNet-small", lambda: AlexNet(num_classes=7, width=1 / 16, input_size=67), (3, 67, 67), 7),
    ("VGG16-32", lambda: VGG16(num_classes=10, input_size=32), (3, 32, 32), 10),
    ("SmallResNet", lambda: SmallResNet(), (1, 28, 28), 10),
    ("SmallResNet-cifar", lambda: SmallResNet(3, 10, blocks_per_stage=(1, 2, 1)), (3, 32, 32), 10),
    ("SmallResNet-bottleneck", lambda: SmallResNet(block="bottleneck", blocks_per_stage=1),
     (1, 28, 28), 10),
    ("SmallGoogLeNet", lambda: SmallGoogLeNet(), (1, 28, 28), 10),
    ("SmallGoogLeNet-cifar", lambda: SmallGoogLeNet(in_channels=3, num_classes=5), (3, 32, 32), 5),
]


@pytest.mark.parametrize("name,build,input_shape,classes", SMALL_MODELS, ids=[m[0] for m in SMALL_MODELS])
def test_forward_backward(name, build, input_shape, classes):
    model = build()
    scores = forward_backward(model, input_shape)
    assert scores.shape == (2, classes)
    assert np.isfinite(scores.data).all()
    assert_every_parameter_has_grad(model)
    model.eval()
    with gw.no_grad():
        assert model(gw.randn(1, *input_shape)).shape == (1, classes)


def test_alexnet_full_size_forward_backward(alexnet):
    scores = forward_backward(alexnet, (3, 227, 227))
    assert scores.shape == (2, 1000)
    assert_every_parameter_has_grad(alexnet)
    alexnet.zero_grad()


def test_vgg16_full_size_forward(vgg16):
    vgg16.eval()
    with gw.no_grad():
        assert vgg16(gw.randn(1, 3, 224, 224)).shape == (1, 1000)


@pytest.mark.parametrize("name,batch", [("resnet18", 2), ("resnet34", 2), ("resnet50", 1)])
def test_resnet_forward_backward_64(resnets, name, batch):
    model = resnets[name]
    scores = forward_backward(model, (3, 64, 64), batch=batch)
    assert scores.shape == (batch, 1000)
    assert_every_parameter_has_grad(model)
    model.zero_grad()


def test_fixed_size_models_reject_wrong_input_with_their_name():
    with pytest.raises(ValueError, match="LeNet5.*32, 32"):
        LeNet5()(gw.randn(2, 1, 28, 28))
    with pytest.raises(ValueError, match="VGG16"):
        VGG16(num_classes=10, input_size=32)(gw.randn(2, 3, 64, 64))
    with pytest.raises(ValueError, match="SimpleConvNet"):
        SimpleConvNet()(gw.randn(2, 3, 28, 28))
    with pytest.raises(ValueError, match="multiple of 32"):
        VGG16(input_size=100)
    with pytest.raises(ValueError, match="activation"):
        LeNet5(activation="sigmoid")


# ---- the book's nets and LeNet-5: layout and initialization -----------------------------
def test_simple_convnet_draws_weights_as_the_book():
    net = SimpleConvNet(weight_init_std=0.01)
    for layer in (net.conv1, net.affine1, net.affine2):
        assert np.all(layer.b.data == 0)
    assert abs(net.affine1.W.data.std() - 0.01) < 2e-4          # 432,000 draws
    assert abs(net.affine1.W.data.mean()) < 1e-4
    assert net.affine1.W.shape == (100, 30 * 12 * 12)
    wide = SimpleConvNet(input_dim=(3, 32, 32), filter_num=8, filter_size=3, pad=1,
                         weight_init_std=0.1)
    assert wide.affine1.in_features == 8 * 16 * 16
    assert abs(wide.affine1.W.data.std() - 0.1) < 5e-3


def test_deep_convnet_is_he_initialized_with_the_books_layout():
    net = DeepConvNet()
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [16, 16, 32, 32, 64, 64]
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert net.classifier[1].W.shape == (50, 64 * 4 * 4)
    assert np.all(net.classifier[1].b.data == 0)
    assert abs(net.classifier[1].W.data.std() - np.sqrt(2 / 1024)) < 0.005
    assert sum(isinstance(m, nn.Dropout) and m.p == 0.5 for m in net.classifier) == 2


def test_lenet5_variants_and_shapes():
    classic = LeNet5()
    assert sum(isinstance(m, nn.Tanh) for m in classic.modules()) == 4
    assert sum(type(m) is nn.AvgPool2d for m in classic.modules()) == 2
    modern = LeNet5(activation="relu", pooling="max")
    assert sum(isinstance(m, nn.ReLU) for m in modern.modules()) == 4
    assert sum(type(m) is nn.MaxPool2d for m in modern.modules()) == 2
    mnist = LeNet5(input_size=28)
    assert mnist.features[0].padding == 2
    # the padded 28 x 28 digit goes through the same shapes as a 32 x 32 one
    with gw.no_grad():
        assert mnist.features(gw.zeros(1, 1, 28, 28)).shape == (1, 16, 5, 5)
        assert classic.features(gw.zeros(1, 1, 32, 32)).shape == (1, 16, 5, 5)
    text = classic.summary((1, 32, 32), print_fn=None)
    assert "Total params: 61,706" in text and "(None, 6, 28, 28)" in text


def test_alexnet_shapes_along_the_way(alexnet):
    shapes = []
    with gw.no_grad():
        A = gw.zeros(1, 3, 227, 227)
        for layer in alexnet.features:
            A = layer(A)
            if isinstance(layer, nn.MaxPool2d) or layer is alexnet.features[0]:
                shapes.append(A.shape[1:])
    assert shapes == [(96, 55, 55), (96, 27, 27), (256, 13, 13), (256, 6, 6)]


# ---- residual blocks -------------------------------------------------------------------------
def _zero_weights(block):
    for m in block.modules():
        if isinstance(m, nn.Conv2d):
            m.W.data[...] = 0
        if isinstance(m, nn.BatchNorm2d):
            m.gamma.data[...] = 0


@pytest.mark.parametrize("training", [True, False])
def test_identity_block_with_zero_weights_is_relu_of_its_input(training):
    """a[l+2] = g(z[l+2] + a[l]) with z[l+2] = 0: the skip connection makes the identity easy."""
    block = IdentityBlock(8, (4, 4, 8), f=3)
    assert isinstance(block.shortcut, nn.Identity)
    _zero_weights(block)
    block.train(training)
    x = gw.randn(2, 8, 5, 5, requires_grad=True)
    out = block(x)
    np.testing.assert_array_equal(out.data, np.maximum(x.data, 0))
    # and the gradient reaches the input through the shortcut, untouched
    dout = np.random.default_rng(0).normal(size=out.shape).astype(np.float32)
    out.backward(dout)
    np.testing.assert_array_equal(x.grad, dout * (x.data > 0))


def test_basic_block_with_zero_weights_is_relu_of_its_input():
    block = BasicBlock(6, 6)
    _zero_weights(block)
    x = gw.randn(2, 6, 4, 4)
    np.testing.assert_array_equal(block(x).data, np.maximum(x.data, 0))


def test_identity_block_needs_matching_channels():
    with pytest.raises(ValueError, match="IdentityBlock.*F3"):
        IdentityBlock(8, (4, 4, 16))


def test_convolutional_block_stride_2_projects_the_shortcut():
    block = ConvolutionalBlock(8, (4, 4, 16), f=3, s=2)
    proj = block.shortcut
    assert isinstance(proj, nn.Sequential)
    assert isinstance(proj[0], nn.Conv2d) and proj[0].kernel_size == (1, 1) and proj[0].stride == 2
    assert isinstance(proj[1], nn.BatchNorm2d)
    assert block.conv1.stride == 2 and block.conv2.stride == 1      # the course: stride on 1x1
    out = block(gw.randn(2, 8, 9, 9))
    assert out.shape == (2, 16, 5, 5)
    assert out.data.min() >= 0                                          # ends with ReLU
    assert ConvolutionalBlock(8, (4, 4, 16), s=2, stride_on="3x3")(gw.randn(2, 8, 8, 8)).shape \
        == (2, 16, 4, 4)
    # same shape in and out: the shortcut is the identity
    assert isinstance(ConvolutionalBlock(16, (4, 4, 16), s=1).shortcut, nn.Identity)


@pytest.mark.parametrize("f", [2, 4])
def test_blocks_take_the_courses_even_filter_size_with_keras_same_padding(f):
    """f = 2 in the course's identity block: 'same' pads k - 1 in all, the extra row and
    column at the bottom and right, as Keras; the block keeps H and W."""
    block = IdentityBlock(6, (4, 3, 6), f=f)
    assert block.conv2.padding == "same" and block.conv2.kernel_size == (f, f)
    x = gw.randn(2, 6, 5, 7, requires_grad=True)
    out = block(x)
    assert out.shape == (2, 6, 5, 7)
    out.sum().backward()
    assert x.grad.shape == x.shape
    assert ConvolutionalBlock(6, (4, 3, 8), f=f, s=2)(gw.randn(2, 6, 9, 9)).shape == (2, 8, 5, 5)
    # the middle convolution is F.conv2d with padding 'same': pad (f - 1) // 2 top/left, the rest
    # bottom/right
    A = gw.randn(1, 4, 5, 7)
    lo, hi = (f - 1) // 2, f - 1 - (f - 1) // 2
    padded = F.conv2d(gw.pad(A, ((0, 0), (0, 0), (lo, hi), (lo, hi))), block.conv2.W)
    np.testing.assert_allclose(block.conv2(A).data, padded.data, rtol=1e-6)


def test_an_even_filter_with_the_stride_on_it_is_refused_clearly():
    with pytest.raises(ValueError, match=r"ConvolutionalBlock: an even filter size f = 2 .*stride_on='1x1'"):
        ConvolutionalBlock(6, (4, 3, 8), f=2, s=2, stride_on="3x3")
    assert ConvolutionalBlock(6, (4, 3, 8), f=2, s=1, stride_on="3x3")(gw.randn(2, 6, 5, 5)).shape \
        == (2, 8, 5, 5)


def test_convolutional_block_matches_torch():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    block = ConvolutionalBlock(4, (3, 5, 6), f=3, s=2, stride_on="3x3")
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.gamma.data[...] = gw.randn(*m.gamma.shape).data
            m.beta.data[...] = gw.randn(*m.beta.shape).data

    def conv(c):
        t = tnn.Conv2d(c.in_channels, c.out_channels, c.kernel_size, c.stride, c.padding, bias=False)
        t.weight.data = torch.tensor(c.W.data)
        return t

    def bn(b):
        t = tnn.BatchNorm2d(b.num_features)
        t.weight.data, t.bias.data = torch.tensor(b.gamma.data), torch.tensor(b.beta.data)
        return t

    main = tnn.Sequential(conv(block.conv1), bn(block.bn1), tnn.ReLU(), conv(block.conv2),
                          bn(block.bn2), tnn.ReLU(), conv(block.conv3), bn(block.bn3))
    short = tnn.Sequential(conv(block.shortcut[0]), bn(block.shortcut[1]))
    X = np.random.default_rng(1).normal(size=(3, 4, 7, 7)).astype(np.float32)
    x, tx = gw.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    out, tout = block(x), torch.relu(main(tx) + short(tx))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-4, atol=1e-4)
    dY = np.random.default_rng(2).normal(size=out.shape).astype(np.float32)
    out.backward(dY)
    tout.backward(torch.tensor(dY))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(block.conv2.W.grad, main[3].weight.grad.numpy(), rtol=1e-3, atol=1e-4)


def test_resnet_stem_pools_before_its_relu_to_the_same_bits():
    """The stem's conv - BN - ReLU - max pool (3x3, stride 2, padding 1: overlapping, padded
    windows) runs through nn.containers.relu_pool; a hook on its ReLU restores the order as
    written, and the output and every gradient are the same to the bit."""
    gw.manual_seed(0)
    model = resnet18(num_classes=10)
    X = np.random.default_rng(0).normal(size=(2, 3, 64, 64)).astype(np.float32)
    assert check_same_as_written(model, model.relu, X) == [(2, 64, 32, 32)]


def test_resnet_layout_follows_torchvision(resnets):
    for name, model in resnets.items():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                assert m.b is None, f"{name}: convolutions have no bias (BN follows)"
        projections = [m for m in model.modules()
                       if isinstance(m, (BasicBlock, Bottleneck)) and not isinstance(m.shortcut, nn.Identity)]
        assert len(projections) == (4 if name == "resnet50" else 3)
    r50 = resnets["resnet50"]
    first = r50.layer2[0]
    assert first.conv1.stride == 1 and first.conv2.stride == 2          # v1.5: stride on 3x3
    assert r50.fc.in_features == 2048 and resnets["resnet18"].fc.in_features == 512


# ---- inception --------------------------------------------------------------------------------
def test_conv_multiplies_the_courses_bottleneck_example():
    assert conv_multiplies(28, 28, 192, 32, 5) == 120_422_400                 # ~120M
    assert conv_multiplies(28, 28, 192, 16, 1) == 2_408_448                   # ~2.4M
    assert conv_multiplies(28, 28, 16, 32, 5) == 10_035_200                   # ~10.0M
    assert bottleneck_multiplies(28, 28, 192, 16, 32, 5) == 12_443_648        # ~12.4M
    with pytest.raises(ValueError, match="kernel_size"):
        conv_multiplies(28, 28, 192, 32, 0)


def test_inception_module_concatenates_its_branches():
    module = InceptionModule(16, ch1x1=4, ch3x3_reduce=6, ch3x3=8, ch5x5_reduce=2, ch5x5=3, pool_proj=5)
    x = gw.randn(2, 16, 7, 7, requires_grad=True)
    out = module(x)
    assert module.out_channels == 4 + 8 + 3 + 5
    assert out.shape == (2, 20, 7, 7)                                  # H, W kept by every branch
    np.testing.assert_array_equal(out.data[:, :4], F.relu(module.branch1(x)).data)
    pooled = F.max_pool2d(x, 3, 1, 1)
    np.testing.assert_array_equal(out.data[:, 15:], F.relu(module.branch4(pooled)).data)
    out.sum().backward()
    assert x.grad.shape == x.shape
    assert_every_parameter_has_grad(module)


def test_one_by_one_convolution_reduces_channels():
    conv = nn.Conv2d(32, 8, kernel_size=1)
    x = gw.randn(2, 32, 6, 6)
    y = conv(x)
    assert y.shape == (2, 8, 6, 6)
    # at every pixel: a fully connected layer across the channels
    expected = np.einsum("fc,nchw->nfhw", conv.W.data[:, :, 0, 0], x.data) + conv.b.data[:, None, None]
    np.testing.assert_allclose(y.data, expected, rtol=1e-5, atol=1e-5)


# ---- transfer learning -------------------------------------------------------------------------
def _stripes(n, rng):
    """2 classes of 8x8 patterns: horizontal (0) or vertical (1) stripes, random phase, noise."""
    X = np.zeros((n, 1, 8, 8), np.float32)
    y = rng.integers(0, 2, n)
    for i in range(n):
        phase = rng.integers(0, 2)
        stripes = (np.arange(8) % 2 == phase).astype(np.float32)
        X[i, 0] = stripes[:, None] if y[i] == 0 else stripes[None, :]
    X += 0.3 * rng.standard_normal(X.shape).astype(np.float32)
    return gw.tensor(X), y


class _Net(nn.Module):
    def __init__(self, head_name="fc", classes=2):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(), nn.Flatten(),
        )
        setattr(self, head_name, nn.Linear(8, classes))
        self.head_name = head_name

    def forward(self, X):
        return getattr(self, self.head_name)(self.backbone(X))


def _step(params, lr):
    try:
        from gradwise import optim
    except ImportError:
        optim = None
    if optim is not None and hasattr(optim, "SGD"):
        opt = optim.SGD(params, lr=lr)
        return opt.step
    def step():
        with gw.no_grad():
            for p in params:
                if p.requires_grad and p.grad is not None:
                    p.data -= lr * p.grad
    return step


def _train(model, X, y, steps, lr):
    step = _step(trainable_parameters(model), lr)
    losses = []
    for _ in range(steps):
        model.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        step()
        losses.append(float(loss.data))
    return losses


def test_transfer_learning_trains_only_the_new_head():
    rng = np.random.default_rng(0)
    X, y = _stripes(32, rng)
    model = _Net()
    losses = _train(model, X, y, steps=30, lr=0.5)
    assert losses[-1] < losses[0]

    freeze(model.backbone)
    new_head = nn.Linear(8, 2)
    old = replace_head(model, "fc", new_head)
    assert isinstance(old, nn.Linear) and model.fc is new_head
    assert list(model._modules) == ["backbone", "fc"]                 # place kept
    assert trainable_parameters(model) == [new_head.W, new_head.b]
    assert model.num_parameters(trainable_only=True) == 8 * 2 + 2

    backbone_before = {k: v.copy() for k, v in model.backbone.state_dict().items()}
    head_before = new_head.W.data.copy()
    y_new = 1 - y                                                       # a new task: labels swapped
    losses = _train(model, X, y_new, steps=15, lr=0.5)
    assert losses[-1] < losses[0]
    for k, v in model.backbone.state_dict().items():
        np.testing.assert_array_equal(v, backbone_before[k], err_msg=k)  # bit for bit
    for name, p in model.backbone.named_parameters():
        assert p.grad is None, name
    assert not np.array_equal(new_head.W.data, head_before)
    assert new_head.W.grad is not None

    unfreeze(model.backbone)
    assert len(trainable_parameters(model)) == len(list(model.parameters()))


def test_partial_state_dict_loads_the_backbone_into_a_model_with_another_head():
    source, target = _Net("fc", classes=2), _Net("classifier", classes=5)
    head_before = target.classifier.W.data.copy()
    with pytest.raises(RuntimeError, match="missing"):
        target.load_state_dict(source.state_dict())
    result = target.load_state_dict(source.state_dict(), strict=False)
    assert result.missing_keys == ["classifier.W", "classifier.b"]
    assert result.unexpected_keys == ["fc.W", "fc.b"]
    for name, p in target.backbone.named_parameters():
        np.testing.assert_array_equal(p.data, source.backbone.state_dict()[name])
    np.testing.assert_array_equal(target.classifier.W.data, head_before)
    # a head of the same name but another shape: drop its keys first
    other = _Net("fc", classes=5)
    with pytest.raises(RuntimeError, match="fc.W"):
        other.load_state_dict(source.state_dict(), strict=False)
    backbone_only = {k: v for k, v in source.state_dict().items() if not k.startswith("fc.")}
    result = other.load_state_dict(backbone_only, strict=False)
    assert result.missing_keys == ["fc.W", "fc.b"] and result.unexpected_keys == []


def test_replace_head_in_zoo_models_keeps_the_layer_order():
    lenet = LeNet5()
    keys = list(lenet.state_dict())
    replace_head(lenet, "classifier.-1", nn.Linear(84, 3))
    assert list(lenet.state_dict()) == keys
    assert lenet(gw.randn(2, 1, 32, 32)).shape == (2, 3)
    seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    replace_head(seq, -1, nn.Linear(4, 6))
    replace_head(seq, 0, nn.Linear(4, 4))
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    assert seq(gw.randn(3, 4)).shape == (3, 6)
    net = SmallResNet()
    freeze(net)
    replace_head(net, "fc", nn.Linear(64, 4))
    assert forward_backward(net, (1, 28, 28)).shape == (2, 4)
    assert all(p.grad is None for n, p in net.named_parameters() if not n.startswith("fc."))
    assert net.fc.W.grad is not None
    with pytest.raises(KeyError, match="head"):
        replace_head(net, "head", nn.Linear(64, 4))
    with pytest.raises(TypeError):
        replace_head(net, "fc", "not a layer")
