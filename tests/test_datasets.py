"""gradwise.datasets: every real file's shapes, dtypes and class counts; where files are looked
for; the offline, missing-file and corrupted-file errors (network blocked, temp folders); the
generators against their recipes and scikit-learn; the course layout; the image grid."""
import gzip
import io
import os
import shutil
import socket
import struct
import time
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from shared_data import CATVNONCAT, DATA, FOOTBALL, needs, needs_fashion_mnist, needs_mnist

import gradwise as gw
from gradwise.datasets import (
    FASHION_MNIST_CLASSES,
    FILES,
    HAPPY_CLASSES,
    LOGIC_GATES,
    SIGNS_CLASSES,
    DatasetIntegrityError,
    _store,
    fetch,
    from_course_layout,
    load_catvnoncat,
    load_fashion_mnist,
    load_football,
    load_happy,
    load_mnist,
    load_planar_dataset,
    load_signs,
    logic_gate,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    read_idx,
    search_roots,
    show,
    to_course_layout,
)

LABELS_REL = "mnist/t10k-labels-idx1-ubyte.gz"   # the smallest real file (4542 bytes)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No $GRADWISE_DATA, a fresh empty cache (HOME), and no network at all."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GRADWISE_DATA", raising=False)
    calls = []

    def no_network(url, timeout):
        calls.append(url)
        raise urllib.error.URLError("[Errno 101] Network is unreachable")

    def no_socket(*args, **kwargs):
        raise AssertionError("a test tried to open a network connection")

    monkeypatch.setattr(_store, "_urlopen", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_socket)
    return calls


# ---- real files: shapes, dtypes, class counts (numbers from the datasets' README) ----------
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.parametrize("loader, train_counts, test_counts", [
    pytest.param(load_mnist, MNIST_TRAIN_COUNTS, MNIST_TEST_COUNTS, marks=needs_mnist),
    pytest.param(load_fashion_mnist, [6000] * 10, [1000] * 10, marks=needs_fashion_mnist),
])
def test_mnist_like_default_switches(loader, train_counts, test_counts):
    (x, t), (xt, tt) = loader(data_dir=DATA)
    assert x.shape == (60000, 784) and xt.shape == (10000, 784)
    assert x.dtype == xt.dtype == np.float32 and t.dtype == tt.dtype == np.int64
    assert t.shape == (60000,) and tt.shape == (10000,)
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.bincount(t).tolist() == train_counts and np.bincount(tt).tolist() == test_counts


@needs_mnist
def test_mnist_switches_keep_bytes_channels_and_one_hot():
    (x, t), (xt, tt) = load_mnist(normalize=False, flatten=False, one_hot_label=True, data_dir=DATA)
    assert x.shape == (60000, 1, 28, 28) and xt.shape == (10000, 1, 28, 28)
    assert x.dtype == np.uint8 and x.max() == 255
    assert t.shape == (60000, 10) and t.dtype == np.float32
    np.testing.assert_array_equal(t.sum(1), 1.0)
    assert np.bincount(tt.argmax(1)).tolist() == MNIST_TEST_COUNTS
    (xf, tf), _ = load_mnist(data_dir=DATA)
    np.testing.assert_array_equal(xf, x.reshape(60000, 784) / np.float32(255))  # same pixels
    np.testing.assert_array_equal(tf, t.argmax(1))
    x[:] = 0                                    # fresh arrays: the parsed cache is untouched
    assert load_mnist(normalize=False, data_dir=DATA)[0][0].max() == 255


@needs_mnist
def test_mnist_idx_header_facts_and_env_lookup(monkeypatch):
    monkeypatch.setenv("GRADWISE_DATA", str(DATA))
    raw = gzip.decompress((DATA / "mnist/t10k-images-idx3-ubyte.gz").read_bytes())
    assert struct.unpack(">4I", raw[:16]) == (2051, 10000, 28, 28)
    (_, _), (xt, _) = load_mnist(normalize=False)             # found through $GRADWISE_DATA
    np.testing.assert_array_equal(xt.reshape(-1), np.frombuffer(raw, np.uint8, offset=16))
    assert len(FASHION_MNIST_CLASSES) == 10 and FASHION_MNIST_CLASSES[9] == "Ankle boot"


@needs(*CATVNONCAT)
def test_catvnoncat_shapes_counts_and_classes():
    (x, y), (xt, yt), classes = load_catvnoncat(data_dir=DATA)
    assert x.shape == (209, 64, 64, 3) and xt.shape == (50, 64, 64, 3)
    assert x.dtype == np.uint8 and y.dtype == np.int64 and y.shape == (209,)
    assert np.bincount(y).tolist() == [137, 72] and np.bincount(yt).tolist() == [17, 33]
    assert classes == ["non-cat", "cat"]
    (xc, yc), classes = load_catvnoncat(data_dir=DATA, split="test", channels_first=True)
    assert xc.shape == (50, 3, 64, 64) and xc.flags.c_contiguous
    np.testing.assert_array_equal(xc, xt.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(yc, yt)


@pytest.mark.parametrize("loader, n, counts, names", [
    pytest.param(load_signs, 120, [20] * 6, list(SIGNS_CLASSES), marks=needs("course/test_signs.h5")),
    pytest.param(load_happy, 150, [66, 84], list(HAPPY_CLASSES), marks=needs("course/test_happy.h5")),
])
def test_signs_and_happy_test_halves(loader, n, counts, names):
    (x, y), classes = loader(data_dir=DATA, split="test")
    assert x.shape == (n, 64, 64, 3) and x.dtype == np.uint8
    assert y.shape == (n,) and y.dtype == np.int64 and np.bincount(y).tolist() == counts
    assert classes == names


@pytest.mark.parametrize("loader, missing", [
    pytest.param(load_signs, "train_signs.h5", marks=needs("course/test_signs.h5")),
    pytest.param(load_happy, "train_happy.h5", marks=needs("course/test_happy.h5")),
])
def test_missing_training_half_is_named(loader, missing, isolated, tmp_path):
    test_half = "course/" + missing.replace("train_", "test_")
    (tmp_path / "course").mkdir()
    (tmp_path / test_half).symlink_to(DATA / test_half)       # a folder with the test half only
    with pytest.raises(FileNotFoundError) as err:
        loader(data_dir=tmp_path)                              # split='both' needs both files
    msg = str(err.value)
    assert f"course/{missing}" in msg and str(tmp_path / "course" / missing) in msg
    assert "split='test'" in msg and "data_dir=" in msg and "GRADWISE_DATA" in msg
    assert isolated == []                                      # course files are never downloaded
    with pytest.raises(FileNotFoundError, match=missing):
        loader(data_dir=tmp_path, split="train")
    with pytest.raises(ValueError, match="split must be one of"):
        loader(data_dir=tmp_path, split="dev")


@needs(*FOOTBALL)
def test_football_data_mat():
    (X, y), (Xv, yv) = load_football(data_dir=DATA)
    assert X.shape == (211, 2) and Xv.shape == (200, 2) and X.dtype == np.float32
    assert y.shape == (211,) and yv.shape == (200,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [105, 106] and np.bincount(yv).tolist() == [113, 87]
    from scipy.io import loadmat
    mat = loadmat(DATA / "course" / "data.mat")
    (X64, _), (Xv64, _) = load_football(data_dir=DATA, dtype=np.float64)
    np.testing.assert_array_equal(X64, mat["X"])                # exactly as stored
    np.testing.assert_array_equal(Xv64, mat["Xval"])


@needs(*CATVNONCAT, *FOOTBALL)
def test_course_layout_is_the_course_reshape_and_round_trips():
    (x, y), _, _ = load_catvnoncat(data_dir=DATA)
    Xc, Yc = to_course_layout(x, y)
    assert Xc.shape == (12288, 209) and Yc.shape == (1, 209)
    np.testing.assert_array_equal(Xc, x.reshape(x.shape[0], -1).T)   # course 1 week 2
    np.testing.assert_array_equal(Yc[0], y)
    xb, yb = from_course_layout(Xc, Yc, shape=(64, 64, 3))
    np.testing.assert_array_equal(xb, x)
    np.testing.assert_array_equal(yb, y)
    (Xf, yf), _ = load_football(data_dir=DATA)
    Xfc, Yfc = to_course_layout(Xf, yf)
    assert Xfc.shape == (2, 211) and Yfc.shape == (1, 211)
    onehot = np.eye(3)[[0, 2, 1, 2]]                                  # (m, C) -> (C, m) and back
    _, Yo = to_course_layout(np.zeros((4, 5)), onehot)
    assert Yo.shape == (3, 4)
    np.testing.assert_array_equal(from_course_layout(np.zeros((5, 4)), Yo)[1], onehot)
    with pytest.raises(ValueError, match="4 examples"):
        to_course_layout(np.zeros((4, 5)), np.zeros(3))
    with pytest.raises(ValueError, match=r"\(n_x, m\)"):
        from_course_layout(np.zeros(5))


# ---- where files come from -----------------------------------------------------------------
def test_search_order_data_dir_then_env_then_cache(monkeypatch, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRADWISE_DATA", f"{a}{os.pathsep}{b}")
    assert search_roots() == [a, b, tmp_path / "home" / ".cache" / "gradwise"]
    assert search_roots(tmp_path / "mine") == [tmp_path / "mine"]


@needs_mnist
def test_a_file_in_the_cache_is_found_and_the_first_root_wins(isolated, tmp_path, monkeypatch):
    cache = Path(os.environ["HOME"]) / ".cache" / "gradwise"
    (cache / "mnist").mkdir(parents=True)
    shutil.copy(DATA / LABELS_REL, cache / LABELS_REL)
    assert fetch(LABELS_REL) == cache / LABELS_REL
    env = tmp_path / "env"
    (env / "mnist").mkdir(parents=True)
    shutil.copy(DATA / LABELS_REL, env / LABELS_REL)
    monkeypatch.setenv("GRADWISE_DATA", str(env))
    assert fetch(LABELS_REL) == env / LABELS_REL
    assert isolated == []


def test_offline_error_names_files_places_and_the_fix(isolated, tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_mnist()
    msg = str(err.value)
    cache = Path(os.environ["HOME"]) / ".cache" / "gradwise"
    assert "mnist/train-images-idx3-ubyte.gz" in msg
    assert str(cache / "mnist/train-images-idx3-ubyte.gz") in msg      # where it looked
    assert "download failed" in msg and "Network is unreachable" in msg
    assert "data_dir=" in msg and "GRADWISE_DATA" in msg                # how to point at files
    assert len(isolated) == 2                                           # both mirrors tried, once
    assert list(Path(os.environ["HOME"]).iterdir()) == []               # no file, no empty folder
    assert "t10k-labels-idx1-ubyte.gz" in msg                           # every missing file named
    with pytest.raises(FileNotFoundError, match="download disabled"):
        load_fashion_mnist(data_dir=tmp_path / "nowhere", download=False)
    assert len(isolated) == 2


class FakeResponse(io.BytesIO):
    def __init__(self, payload: bytes):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}


@needs_mnist
def test_download_is_verified_and_lands_in_the_cache(isolated, monkeypatch):
    good = (DATA / LABELS_REL).read_bytes()
    urls = []

    def serve(url, timeout):
        urls.append(url)
        if len(urls) == 1:                       # the first mirror is down, the second works
            raise urllib.error.URLError("timed out")
        return FakeResponse(good)

    monkeypatch.setattr(_store, "_urlopen", serve)
    path = fetch(LABELS_REL)
    cache = Path(os.environ["HOME"]) / ".cache" / "gradwise"
    assert path == cache / LABELS_REL and path.read_bytes() == good
    assert [u.rsplit("/", 1)[1] for u in urls] == ["t10k-labels-idx1-ubyte.gz"] * 2
    assert sorted(p.name for p in path.parent.iterdir()) == ["t10k-labels-idx1-ubyte.gz"]
    assert fetch(LABELS_REL) == path and len(urls) == 2          # cached: no second download


@needs_mnist
def test_a_corrupted_download_is_refused_and_never_written(isolated, monkeypatch):
    bad = bytearray((DATA / LABELS_REL).read_bytes())
    bad[100] ^= 0xFF
    monkeypatch.setattr(_store, "_urlopen", lambda url, timeout: FakeResponse(bytes(bad)))
    with pytest.raises(FileNotFoundError) as err:
        fetch(LABELS_REL)
    assert "sha256" in str(err.value) and FILES[LABELS_REL].sha256 in str(err.value)
    assert list(Path(os.environ["HOME"]).iterdir()) == []        # no file, no folder left


def test_a_failed_download_removes_only_the_folders_it_made(tmp_path, monkeypatch):
    root = tmp_path / "data"
    (root / "mnist").mkdir(parents=True)
    (root / "mnist" / "notes.txt").write_text("mine")
    monkeypatch.setattr(_store, "_urlopen", lambda url, timeout: FakeResponse(b"short"))
    with pytest.raises(FileNotFoundError, match="gave 5 bytes"):
        fetch(LABELS_REL, data_dir=root)                   # the folder was there: it stays
    assert sorted(p.name for p in (root / "mnist").iterdir()) == ["notes.txt"]
    with pytest.raises(FileNotFoundError, match="gave 5 bytes"):
        fetch(LABELS_REL, data_dir=tmp_path / "new" / "data")
    assert not (tmp_path / "new").exists()                  # made for the download, removed


@pytest.fixture
def silent_mirror(monkeypatch):
    """A mirror on this machine that accepts connections and never answers: the kernel
    completes the handshake for a listening socket nobody accepts from."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    base = f"http://127.0.0.1:{server.getsockname()[1]}/"
    spec = FILES[LABELS_REL]
    monkeypatch.setitem(FILES, LABELS_REL, _store.FileSpec(spec.size, spec.sha256, (base + "a/", base + "b/")))
    yield base
    server.close()


def test_a_mirror_that_never_answers_is_given_up_promptly(silent_mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADWISE_DOWNLOAD_TIMEOUT", "0.3")
    start = time.perf_counter()
    with pytest.raises(FileNotFoundError) as err:
        fetch(LABELS_REL, data_dir=tmp_path / "data")
    assert time.perf_counter() - start < 5                  # two mirrors, 0.3 s each (default 30)
    msg = str(err.value)
    assert msg.count("timed out") == 2 and msg.count(silent_mirror) == 2
    assert "no answer in 0.3 s; $GRADWISE_DOWNLOAD_TIMEOUT sets the wait" in msg
    assert not (tmp_path / "data").exists()
    monkeypatch.delenv("GRADWISE_DOWNLOAD_TIMEOUT")
    start = time.perf_counter()
    with pytest.raises(FileNotFoundError, match="no answer in 0.2 s"):
        fetch(LABELS_REL, data_dir=tmp_path / "data", timeout=0.2)   # the argument, per call
    assert time.perf_counter() - start < 5


def test_download_timeout_setting(monkeypatch):
    monkeypatch.delenv("GRADWISE_DOWNLOAD_TIMEOUT", raising=False)
    assert _store.download_timeout() == 30.0
    monkeypatch.setenv("GRADWISE_DOWNLOAD_TIMEOUT", "2.5")
    assert _store.download_timeout() == 2.5
    for bad in ("0", "-1", "soon", "inf"):
        monkeypatch.setenv("GRADWISE_DOWNLOAD_TIMEOUT", bad)
        with pytest.raises(ValueError, match="GRADWISE_DOWNLOAD_TIMEOUT must be a positive"):
            _store.download_timeout()


@needs_mnist
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_local_file_is_named_never_parsed(damage, isolated, tmp_path):
    root = tmp_path / "data"
    (root / "mnist").mkdir(parents=True)
    for rel in ("mnist/t10k-images-idx3-ubyte.gz", "mnist/train-images-idx3-ubyte.gz",
                "mnist/train-labels-idx1-ubyte.gz"):
        (root / rel).symlink_to(DATA / rel)
    raw = bytearray((DATA / LABELS_REL).read_bytes())
    if damage == "truncate":
        raw = raw[:3000]
    else:
        raw[2000] ^= 0x01
    (root / LABELS_REL).write_bytes(bytes(raw))
    with pytest.raises(DatasetIntegrityError) as err:
        load_mnist(data_dir=root)
    msg = str(err.value)
    assert str(root / LABELS_REL) in msg and LABELS_REL in msg
    assert ("3000 bytes, expected 4542" in msg) if damage == "truncate" else ("sha256" in msg)
    assert isolated == []                          # a bad file is reported, not re-downloaded


@needs("course/test_happy.h5")
def test_a_damaged_course_file_is_named(isolated, tmp_path):
    (tmp_path / "course").mkdir()
    raw = (DATA / "course/test_happy.h5").read_bytes()
    (tmp_path / "course/test_happy.h5").write_bytes(raw[:-10])
    with pytest.raises(DatasetIntegrityError, match="test_happy.h5.*corrupted or truncated"):
        load_happy(data_dir=tmp_path, split="test")


def _idx_bytes(magic, dims, payload):
    return gzip.compress(struct.pack(f">I{len(dims)}I", magic, *dims) + bytes(payload))


def test_read_idx_parses_and_rejects_bad_headers(tmp_path):
    p = tmp_path / "labels.gz"
    p.write_bytes(_idx_bytes(2049, (5,), [3, 1, 4, 1, 5]))
    np.testing.assert_array_equal(read_idx(p, 2049), [3, 1, 4, 1, 5])
    p.write_bytes(_idx_bytes(2051, (2, 2, 3), range(12)))
    assert read_idx(p, 2051).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="magic number 2051, expected 2049"):
        read_idx(p, 2049)
    p.write_bytes(_idx_bytes(2049, (10,), range(5)))
    with pytest.raises(ValueError, match=r"\(10,\) = 10 bytes of data, file holds 5"):
        read_idx(p, 2049)


# ---- generators ----------------------------------------------------------------------------
def _flower_recipe():
    """The course's load_planar_dataset, verbatim in NumPy's global legacy RNG."""
    state = np.random.get_state()
    try:
        np.random.seed(1)
        m, N, D, a = 400, 200, 2, 4
        X = np.zeros((m, D))
        Y = np.zeros((m, 1), dtype="uint8")
        for j in range(2):
            ix = range(N * j, N * (j + 1))
            t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + np.random.randn(N) * 0.2
            r = a * np.sin(4 * t) + np.random.randn(N) * 0.2
            X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
            Y[ix] = j
        return X.T, Y.T
    finally:
        np.random.set_state(state)


def test_flower_matches_the_recipe():
    state = np.random.get_state()
    X, Y = load_planar_dataset()
    assert np.array_equal(np.random.get_state()[1], state[1])   # global RNG left alone
    assert X.shape == (400, 2) and X.dtype == np.float64 and Y.dtype == np.int64
    assert np.bincount(Y).tolist() == [200, 200] and (Y[:200] == 0).all()
    np.testing.assert_allclose(X[0], [1.20444229, 3.57611415], atol=1e-8)   # first points
    np.testing.assert_allclose(X[200], [-1.07049581, 3.68252461], atol=1e-8)
    Xc, Yc = _flower_recipe()
    X2, Y2 = to_course_layout(X, Y)
    np.testing.assert_array_equal(X2, Xc)                       # bit for bit
    np.testing.assert_array_equal(Y2, Yc)
    assert not np.array_equal(load_planar_dataset(seed=2)[0], X)


@pytest.mark.parametrize("n", [100, 101, 7, (30, 50)])
@pytest.mark.parametrize("noise", [None, 0.15])
@pytest.mark.parametrize("shuffle", [True, False])
def test_moons_and_circles_equal_scikit_learn(n, noise, shuffle):
    datasets = pytest.importorskip("sklearn.datasets")
    for seed in (0, 42):
        X, y = make_moons(n, shuffle=shuffle, noise=noise, random_state=seed)
        Xs, ys = datasets.make_moons(n, shuffle=shuffle, noise=noise, random_state=seed)
        np.testing.assert_array_equal(X, Xs)
        np.testing.assert_array_equal(y, ys)
        for factor in (0.8, 0.3):
            X, y = make_circles(n, shuffle=shuffle, noise=noise, random_state=seed, factor=factor)
            Xs, ys = datasets.make_circles(n, shuffle=shuffle, noise=noise, random_state=seed,
                                           factor=factor)
            np.testing.assert_array_equal(X, Xs)
            np.testing.assert_array_equal(y, ys)
    assert y.dtype == np.int64


def test_moons_circles_class_counts_seeding_and_errors():
    X, y = make_moons(101, noise=0.1, random_state=0)
    assert X.shape == (101, 2) and np.bincount(y).tolist() == [50, 51]
    assert np.bincount(make_circles(101, random_state=0)[1]).tolist() == [50, 51]
    gw.manual_seed(3)
    a = make_moons(50, noise=0.1)
    gw.manual_seed(3)
    np.testing.assert_array_equal(a[0], make_moons(50, noise=0.1)[0])   # seed=None follows gw
    with pytest.raises(ValueError, match="factor"):
        make_circles(10, factor=1.0)
    with pytest.raises(ValueError, match="noise"):
        make_moons(10, noise=-1)
    with pytest.raises(ValueError, match="seed"):
        make_moons(10, random_state=-1)


def test_spirals_match_the_cs231n_recipe():
    X, y = make_spirals(100, 3, seed=0)
    assert X.shape == (300, 2) and np.bincount(y).tolist() == [100, 100, 100]
    rs = np.random.RandomState(0)
    for j in range(3):
        r = np.linspace(0.0, 1, 100)
        t = np.linspace(j * 4, (j + 1) * 4, 100) + rs.randn(100) * 0.2
        np.testing.assert_array_equal(X[100 * j:100 * (j + 1)], np.c_[r * np.sin(t), r * np.cos(t)])
    assert np.allclose(X[0], 0)                                     # every arm starts at 0
    np.testing.assert_allclose(np.linalg.norm(X[[99, 199, 299]], axis=1), 1)   # and ends at r = 1


def test_logic_gates_are_their_truth_tables():
    ops = {"AND": lambda a, b: a & b, "OR": lambda a, b: a | b, "XOR": lambda a, b: a ^ b,
           "NAND": lambda a, b: 1 - (a & b), "NOR": lambda a, b: 1 - (a | b)}
    assert set(LOGIC_GATES) == set(ops)
    for name, op in ops.items():
        X, t = logic_gate(name.lower())
        assert X.shape == (4, 2) and X.dtype == np.float32 and t.dtype == np.int64
        a, b = X.astype(int).T
        np.testing.assert_array_equal(t, op(a, b))
    np.testing.assert_array_equal(logic_gate("AND")[0], [[0, 0], [1, 0], [0, 1], [1, 1]])
    with pytest.raises(ValueError, match="unknown gate 'XNAND'"):
        logic_gate("XNAND")


def test_blobs_counts_centres_and_spread():
    centers = np.array([[0.0, 0.0], [10.0, 10.0], [-10.0, 5.0]])
    X, y = make_blobs(3001, centers=centers, cluster_std=[0.5, 1.0, 2.0], seed=0)
    assert X.shape == (3001, 2) and X.dtype == np.float32 and np.bincount(y).tolist() == [1001, 1000, 1000]
    for k, std in enumerate([0.5, 1.0, 2.0]):
        np.testing.assert_allclose(X[y == k].mean(0), centers[k], atol=0.15)
        np.testing.assert_allclose(X[y == k].std(0), std, rtol=0.08)
    np.testing.assert_array_equal(make_blobs(50, 4, seed=7)[0], make_blobs(50, 4, seed=7)[0])
    Xr, yr = make_blobs([5, 7], centers=[[0, 0, 0], [1, 1, 1]], shuffle=False, seed=1)
    assert Xr.shape == (12, 3) and yr.tolist() == [0] * 5 + [1] * 7
    with pytest.raises(ValueError, match="2 per-cluster counts for 3 centers"):
        make_blobs([1, 2], centers=centers)


# ---- the image grid ------------------------------------------------------------------------
def _png(path):
    from matplotlib.image import imread
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return imread(path)


def test_show_writes_a_labelled_grid_png(tmp_path):
    rng = np.random.default_rng(0)
    images = (rng.random((10, 784)) * 255).astype(np.uint8)
    out = show(images, np.arange(10), tmp_path / "grid" / "digits.png", ncols=5)
    img = _png(out)
    assert img.shape[:2] == (2 * 140, 5 * 140)                    # 1.4 inch cells at 100 dpi
    assert img[..., :3].std() > 0.05                              # something was drawn
    assert sorted(p.name for p in out.parent.iterdir()) == ["digits.png"]   # no temp file left
    rgb = rng.random((3, 3, 8, 8)).astype(np.float32)             # NCHW floats, class names
    assert _png(show(rgb, [0, 1, 1], tmp_path / "rgb.png", class_names=["a", "b"])).shape[:2] == (140, 420)
    with pytest.raises(ValueError, match="2 labels for 3 images"):
        show(rgb, [0, 1], tmp_path / "x.png")
    with pytest.raises(ValueError, match="got shape"):
        show(np.zeros((2, 5, 6, 7, 8)), path=tmp_path / "x.png")


@needs(*CATVNONCAT)
def test_show_real_images(tmp_path):
    (x, y), _, classes = load_catvnoncat(data_dir=DATA)
    img = _png(show(x[:8], y[:8], tmp_path / "cats.png", ncols=4, class_names=classes))
    assert img.shape[:2] == (280, 560) and img[..., :3].std() > 0.05


# ---- the done-when: an MLP on real MNIST through the DataLoader ----------------------
def _one_blas_thread():
    """Matrices of 100 x 784 gain nothing from BLAS threads, and on a busy 2-core machine
    OpenBLAS threads that spin-wait make an epoch 7-15x slower; pin one thread if we can."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn (test extra)
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@needs_mnist
def test_mlp_784_100_100_10_reaches_97_5_percent_on_mnist_in_5_epochs():
    """~5 s on an idle 2-core machine (600 Adam steps of batch 100 per epoch)."""
    import gradwise.functional as F
    from gradwise import nn, optim
    from gradwise.data import DataLoader

    (x_train, t_train), (x_test, t_test) = load_mnist(data_dir=DATA)   # float32 [0, 1], (N, 784)
    gw.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 100, init="he_normal"), nn.ReLU(),
                          nn.Linear(100, 100, init="he_normal"), nn.ReLU(),
                          nn.Linear(100, 10, init="he_normal"))
    opt = optim.Adam(model.parameters(), lr=2e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    train = DataLoader((x_train, t_train), batch_size=100, shuffle=True)
    test = DataLoader((x_test, t_test), batch_size=1000)
    accuracies = []
    with _one_blas_thread():
        for _ in range(5):
            model.train()
            for X, t in train:
                loss = F.cross_entropy(model(X), t)
                opt.zero_grad()
                loss.backward()
                opt.step()
            sched.step()
            model.eval()
            with gw.no_grad():
                correct = sum(int((model(X).data.argmax(1) == t.data).sum()) for X, t in test)
            accuracies.append(correct / len(x_test))
    assert np.isfinite(float(loss.data))
    assert accuracies[-1] >= 0.975, f"test accuracy per epoch: {accuracies}"
