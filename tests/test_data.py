"""The data pipeline: DataLoader partition and fast path, threads, splits, normalization,
and what each augmentation does to a known image."""
import math
import threading

import numpy as np
import pytest

import gradwise as gw
from gradwise.data import (
    ColorShift,
    Compose,
    DataLoader,
    Dataset,
    Normalize,
    PCAColorAugmentation,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
    Standardizer,
    TensorDataset,
    random_mini_batches,
    random_split,
    rotate,
    train_dev_test_split,
)


def _data(n=10, d=3):
    X = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n)
    return X, y


def test_course_partition_full_batches_then_a_smaller_one():
    X, y = _data(10)
    loader = DataLoader((X, y), batch_size=4, shuffle=True, generator=0)
    batches = list(loader)
    assert [len(b[1]) for b in batches] == [4, 4, 2] and len(loader) == 3
    seen = np.concatenate([b[1].data for b in batches])
    assert sorted(seen) == list(range(10))              # every example exactly once
    for Xb, yb in batches:                               # rows stay paired with labels
        np.testing.assert_array_equal(Xb.data, X[yb.data])
    assert isinstance(batches[0][0], gw.Tensor) and batches[0][0].dtype == np.float32


def test_drop_last_and_no_shuffle_order():
    X, y = _data(10)
    loader = DataLoader((X, y), batch_size=4, drop_last=True)
    assert len(loader) == 2
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in loader]), np.arange(8))


def test_shuffle_is_seeded_by_manual_seed_and_differs_between_epochs():
    X, y = _data(20)
    gw.manual_seed(5)
    loader = DataLoader((X, y), batch_size=5, shuffle=True)
    e1 = np.concatenate([b[1].data for b in loader])
    e2 = np.concatenate([b[1].data for b in loader])
    gw.manual_seed(5)
    again = np.concatenate([b[1].data for b in DataLoader((X, y), batch_size=5, shuffle=True)])
    np.testing.assert_array_equal(e1, again)
    assert not np.array_equal(e1, e2)


class CountingDataset(TensorDataset):
    """Counts calls to see which path the loader takes."""
    def __init__(self, *arrays):
        super().__init__(*arrays)
        self.single = self.batched = 0

    def __getitem__(self, index):
        self.single += 1
        return super().__getitem__(index)

    def __getitems__(self, indices):
        self.batched += 1
        return super().__getitems__(indices)


def test_in_memory_fast_path_indexes_whole_batches():
    ds = CountingDataset(*_data(100))
    list(DataLoader(ds, batch_size=10, shuffle=True, generator=1))
    assert ds.batched == 10 and ds.single == 0


def test_generic_dataset_is_collated():
    class Squares(Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float32), i

    batches = list(DataLoader(Squares(), batch_size=3))
    assert [b[0].shape for b in batches] == [(3, 2), (3, 2), (1, 2)]
    np.testing.assert_array_equal(batches[2][0].data, [[6, 36]])


def test_threaded_prefetch_gives_the_same_batches_and_runs_in_background():
    rng = np.random.default_rng(0)
    X = rng.random((64, 1, 8, 8)).astype(np.float32)
    y = np.arange(64)
    threads = set()

    def augment(Xb, r):
        threads.add(threading.current_thread().name)
        return RandomHorizontalFlip()(Xb, r)

    def run(workers):
        loader = DataLoader((X, y), batch_size=8, shuffle=True, generator=3, transform=augment,
                            num_workers=workers)
        return [(b[0].data, b[1].data) for b in loader]

    serial, threaded = run(0), run(2)
    assert len(serial) == len(threaded) == 8
    for (a, la), (b, lb) in zip(serial, threaded):
        np.testing.assert_array_equal(la, lb)
        np.testing.assert_array_equal(a, b)   # per-batch generators: same augmentation
    assert any(name.startswith("gradwise-loader") for name in threads)


def test_loader_errors():
    X, y = _data(4)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader((X, y), batch_size=0)
    with pytest.raises(ValueError, match="share their first axis"):
        DataLoader((X, y[:3]))
    with pytest.raises(ValueError, match="empty"):
        TensorDataset(np.zeros((0, 2)))


def test_more_loader_errors_name_the_argument():
    X, y = _data(4)
    with pytest.raises(TypeError, match="generator"):
        DataLoader((X, y), generator="seed")
    with pytest.raises(TypeError, match="transform must be callable"):
        DataLoader((X, y), transform=3)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader((X, y), num_workers=-1)
    with pytest.raises(ValueError, match="prefetch"):
        DataLoader((X, y), prefetch=0)
    with pytest.raises(TypeError, match="expected a Dataset"):
        DataLoader(42)


def test_course_sized_partition_and_drop_last_with_a_generator():
    X, y = _data(1000, 2)                       # m = 1000, batch 64: 15 full batches and 40
    loader = DataLoader((X, y), batch_size=64, shuffle=True, generator=np.random.default_rng(0))
    sizes = [len(b[1]) for b in loader]
    assert sizes == [64] * 15 + [40] and len(loader) == 16
    dropped = DataLoader((X, y), batch_size=64, shuffle=True, drop_last=True, generator=0)
    assert [len(b[1]) for b in dropped] == [64] * 15 and len(dropped) == 15
    a = [b[1].data for b in DataLoader((X, y), batch_size=64, shuffle=True, generator=7)]
    b = [b[1].data for b in DataLoader((X, y), batch_size=64, shuffle=True, generator=7)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b))          # same seed, same epoch


def _course_random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    """Course 2 (Optimization methods), verbatim in NumPy's global legacy RNG."""
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        m = X.shape[1]
        mini_batches = []
        permutation = list(np.random.permutation(m))
        shuffled_X = X[:, permutation]
        shuffled_Y = Y[:, permutation].reshape((1, m))
        num_complete_minibatches = math.floor(m / mini_batch_size)
        for k in range(num_complete_minibatches):
            mini_batch_X = shuffled_X[:, k * mini_batch_size:(k + 1) * mini_batch_size]
            mini_batch_Y = shuffled_Y[:, k * mini_batch_size:(k + 1) * mini_batch_size]
            mini_batches.append((mini_batch_X, mini_batch_Y))
        if m % mini_batch_size != 0:
            mini_batch_X = shuffled_X[:, num_complete_minibatches * mini_batch_size:]
            mini_batch_Y = shuffled_Y[:, num_complete_minibatches * mini_batch_size:]
            mini_batches.append((mini_batch_X, mini_batch_Y))
        return mini_batches
    finally:
        np.random.set_state(state)


@pytest.mark.parametrize("m, size, seed", [(148, 64, 0), (128, 64, 3), (10, 4, 1), (5, 8, 2)])
def test_random_mini_batches_is_the_course_partition(m, size, seed):
    rng = np.random.default_rng(m)
    X, Y = rng.standard_normal((12, m)), (rng.random((1, m)) > 0.5).astype(np.int64)
    ours = random_mini_batches(X, Y, size, seed)
    ref = _course_random_mini_batches(X, Y, size, seed)
    assert len(ours) == len(ref) == -(-m // size)
    for (xa, ya), (xb, yb) in zip(ours, ref):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    with pytest.raises(ValueError, match="same m"):
        random_mini_batches(X, Y[:, :-1])


def test_random_mini_batches_repeats_whatever_ran_before_and_on_any_thread():
    """The permutation comes from a reseeded RandomState of the thread's own: seeds in any
    order, and on two threads at once, give what a fresh RandomState(seed) gives."""
    from concurrent.futures import ThreadPoolExecutor
    X, Y = np.arange(2 * 50).reshape(2, 50), np.zeros((1, 50))

    def first_column_orders(seeds):
        return [random_mini_batches(X, Y, 50, s)[0][0][0].tolist() for s in seeds]

    seeds = [5, 0, 5, 123456, 0, 2**32 - 1]
    expected = [np.random.RandomState(s).permutation(50).tolist() for s in seeds]
    assert first_column_orders(seeds) == expected
    with ThreadPoolExecutor(2) as pool:
        for got in pool.map(first_column_orders, [seeds * 20, seeds[::-1] * 20]):
            assert got in (expected * 20, expected[::-1] * 20)
    with pytest.raises(ValueError):
        random_mini_batches(X, Y, 10, -1)          # as np.random.seed(-1)


def test_a_one_argument_transform_and_its_reproducible_augmentation():
    X, y = _data(12, 4)
    halves = [b[0].data for b in DataLoader((X, y), batch_size=5, transform=lambda Xb: Xb / 2)]
    np.testing.assert_array_equal(np.concatenate(halves), X / 2)
    images = np.random.default_rng(0).random((40, 1, 6, 6)).astype(np.float32)
    aug = Compose([RandomCrop(6, padding=2), RandomHorizontalFlip()])

    def epochs(loader, n=2):
        return [np.concatenate([b[0].data for b in loader]) for _ in range(n)]

    first = epochs(DataLoader((images, np.arange(40)), batch_size=8, transform=aug, generator=5))
    again = epochs(DataLoader((images, np.arange(40)), batch_size=8, transform=aug, generator=5))
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], first[1])              # a new augmentation each epoch
    assert not np.array_equal(first[0], images)                # and it really changes images


def test_resuming_from_the_generator_state_repeats_shuffle_and_augmentation():
    images = np.random.default_rng(0).random((30, 1, 5, 5)).astype(np.float32)
    data = (images, np.arange(30))
    gw.manual_seed(11)
    loader = DataLoader(data, batch_size=7, shuffle=True, transform=RandomRotation(40))
    list(loader)                                               # epoch 1
    state = gw.get_rng_state()                                 # what a checkpoint stores
    epoch2 = [(b[0].data, b[1].data) for b in loader]
    gw.manual_seed(999)                                        # a new process, another seed...
    gw.set_rng_state(state)                                    # ...restored from the checkpoint
    resumed = [(b[0].data, b[1].data) for b in DataLoader(data, batch_size=7, shuffle=True,
                                                          transform=RandomRotation(40))]
    for (xa, ya), (xb, yb) in zip(epoch2, resumed):
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(xa, xb)


def test_a_loader_with_its_own_generator_saves_and_restores_it(tmp_path):
    images = np.random.default_rng(0).random((30, 1, 5, 5)).astype(np.float32)
    data = (images, np.arange(30))
    loader = DataLoader(data, batch_size=7, shuffle=True, generator=5, transform=RandomRotation(40),
                        num_workers=2)
    list(loader)                                               # epoch 1
    gw.save(loader.state_dict(), tmp_path / "loader.npz")       # what a checkpoint stores
    state = gw.load(tmp_path / "loader.npz")
    assert state["transform"] is None and state["dataset"] is None
    epoch2 = [(b[0].data, b[1].data) for b in loader]
    fresh = DataLoader(data, batch_size=7, shuffle=True, generator=123, transform=RandomRotation(40))
    fresh.load_state_dict(state)
    for (xa, ya), (xb, yb) in zip(epoch2, fresh):
        np.testing.assert_array_equal(ya, yb.data)
        np.testing.assert_array_equal(xa, xb.data)
    # a state that does not fit changes nothing
    broken = {**state, "generator": {"bit_generator": "PCG64", "state": {}}}
    before = fresh.state_dict()
    with pytest.raises(ValueError, match="generator state is damaged"):
        fresh.load_state_dict(broken)
    with pytest.raises(ValueError, match="saved loader had its own generator, this one draws"):
        DataLoader(data, shuffle=True).load_state_dict(state)
    assert fresh.state_dict() == before


def test_prefetch_threads_prepare_the_next_batch_while_the_current_one_trains():
    """No timing: while the consumer still holds batch 0, a worker thread must start (and
    finish) preparing batch 1; with num_workers=0 nothing runs ahead."""
    X, y = _data(40, 2)
    started = {i: threading.Event() for i in range(5)}

    def transform(Xb):
        started[int(Xb[0, 0]) // 16].set()     # batch k starts with row 8k, X[8k, 0] = 16k
        return Xb

    loader = DataLoader((X, y), batch_size=8, transform=transform, num_workers=2, prefetch=1)
    it = iter(loader)
    next(it)                                    # "training" on batch 0 from here on
    assert started[1].wait(timeout=30)          # prepared in the background meanwhile
    assert started[2].is_set() or started[2].wait(timeout=30)   # 2 workers x prefetch 1 ahead
    assert len(list(it)) == 4

    for e in started.values():
        e.clear()
    it = iter(DataLoader((X, y), batch_size=8, transform=transform, num_workers=0))
    next(it)
    assert not started[1].is_set()              # serial: batch 1 waits for the next request


def test_leaving_a_threaded_epoch_early_stops_its_threads_and_errors_surface():
    X, y = _data(200, 2)
    before = {t.ident for t in threading.enumerate()}
    for _ in range(3):
        it = iter(DataLoader((X, y), batch_size=4, transform=lambda Xb: Xb, num_workers=2))
        next(it)
        it.close()                              # what `break` does to a for loop's iterator
    leftover = [t for t in threading.enumerate()
                if t.ident not in before and t.name.startswith("gradwise-loader")]
    assert leftover == []

    def broken(Xb):
        raise RuntimeError("augmentation failed on purpose")

    with pytest.raises(RuntimeError, match="on purpose"):
        list(DataLoader((X, y), batch_size=4, transform=broken, num_workers=2))


def test_subset_checks_its_indices():
    ds = TensorDataset(*_data(5))
    with pytest.raises(IndexError, match="index 7 out of range for a dataset of 5"):
        from gradwise.data import Subset
        Subset(ds, [0, 7])


def test_random_split_lengths_and_fractions():
    ds = TensorDataset(*_data(10))
    a, b = random_split(ds, [7, 3], generator=np.random.default_rng(0))
    assert len(a) == 7 and len(b) == 3
    assert set(a.indices) | set(b.indices) == set(range(10))
    parts = random_split(ds, [0.5, 0.3, 0.2], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [5, 3, 2]
    Xb, yb = next(iter(DataLoader(a, batch_size=7)))
    np.testing.assert_array_equal(Xb.data, ds.arrays[0][yb.data])
    with pytest.raises(ValueError, match="sum to 10"):
        random_split(ds, [5, 6])


def test_random_split_takes_arrays_seeds_and_checks_fractions():
    parts = random_split((*_data(100),), [0.29, 0.71], generator=0)
    assert [len(p) for p in parts] == [29, 71]                   # 0.29 * 100 is not 28
    again = random_split((*_data(100),), [0.29, 0.71], generator=0)
    np.testing.assert_array_equal(parts[0].indices, again[0].indices)
    with pytest.raises(ValueError, match="sum to 1"):
        random_split((*_data(10),), [0.5, 0.6])
    with pytest.raises(TypeError, match="generator"):
        random_split((*_data(10),), [5, 5], generator="x")


def test_stratified_split_keeps_every_class_share():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), [600, 300, 100])                 # 60 / 30 / 10 percent
    X = rng.standard_normal((1000, 2))
    splits = train_dev_test_split(X, y, (0.6, 0.2, 0.2), stratify=True, seed=1)
    for (_, ys), n in zip(splits, (600, 200, 200)):
        assert len(ys) == n
        np.testing.assert_array_equal(np.bincount(ys), np.array([0.6, 0.3, 0.1]) * n)
    for (Xs, ys) in splits:                                       # rows keep their labels
        idx = np.array([np.flatnonzero(X[:, 0] == v)[0] for v in Xs[:, 0]])
        np.testing.assert_array_equal(y[idx], ys)
    onehot = np.eye(3)[y]
    (_, yo), _, _ = train_dev_test_split(X, onehot, stratify=True, seed=1)
    np.testing.assert_array_equal(yo.sum(0), [360, 180, 60])
    same = train_dev_test_split(X, y, stratify=True, seed=1)
    np.testing.assert_array_equal(same[1][0], splits[1][0])       # seeded
    with pytest.raises(ValueError, match="X has 1000 examples but y has 999"):
        train_dev_test_split(X, y[:-1])


def test_train_dev_test_split_ratios_and_stratify():
    X = np.arange(1000, dtype=np.float32)[:, None]
    y = (np.arange(1000) % 10 == 0).astype(np.int64)  # 10% positives
    (Xt, yt), (Xd, yd), (Xs, ys) = train_dev_test_split(X, y, (0.6, 0.2, 0.2), seed=0)
    assert (len(Xt), len(Xd), len(Xs)) == (600, 200, 200)
    assert len(np.intersect1d(Xt[:, 0], Xd[:, 0])) == 0
    (_, yt), (_, yd), (_, ys) = train_dev_test_split(X, y, (0.98, 0.01, 0.01), stratify=True, seed=0)
    assert (len(yt), len(yd), len(ys)) == (980, 10, 10)
    assert yd.sum() == 1 and ys.sum() == 1 and yt.sum() == 98   # proportions kept
    with pytest.raises(ValueError, match="summing to 1"):
        train_dev_test_split(X, y, (0.5, 0.2, 0.2))


def test_standardizer_fits_on_train_only_and_round_trips():
    rng = np.random.default_rng(0)
    train = rng.normal(3, 2, (500, 4)).astype(np.float32)
    dev = rng.normal(3, 2, (100, 4)).astype(np.float32)
    s = Standardizer().fit(train)
    Z = s.transform(train)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(Z.std(0), 1, atol=1e-4)
    np.testing.assert_allclose(s.transform(dev), (dev - train.mean(0)) / train.std(0), rtol=1e-4)
    np.testing.assert_allclose(s.inverse_transform(s.transform(dev)), dev, rtol=1e-4, atol=1e-5)
    s2 = Standardizer().load_state_dict(s.state_dict())
    np.testing.assert_array_equal(s2.transform(dev), s.transform(dev))
    with pytest.raises(RuntimeError, match="fit"):
        Standardizer().transform(dev)


def test_standardizer_is_saved_and_loaded_with_the_model(tmp_path):
    from gradwise import nn
    rng = np.random.default_rng(0)
    train, test = rng.normal(5, 3, (200, 4)).astype(np.float32), rng.normal(5, 3, (20, 4)).astype(np.float32)
    gw.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    scaler = Standardizer().fit(train)
    gw.save({"model": model.state_dict(), "scaler": scaler.state_dict()}, tmp_path / "run.npz")
    state = gw.load(tmp_path / "run.npz")
    model2 = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    model2.load_state_dict(state["model"])
    scaler2 = Standardizer().load_state_dict(state["scaler"])
    with gw.no_grad():
        a = model(gw.tensor(scaler.transform(test))).data
        b = model2(gw.tensor(scaler2.transform(test))).data
    np.testing.assert_array_equal(a, b)                 # same predictions after the reload


def test_standardizer_images_constant_features_dtypes_and_errors():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 3, 4, 4)).astype(np.uint8)
    s = Standardizer(axis=(0, 2, 3)).fit(images)
    assert s.mean.shape == (1, 3, 1, 1)
    Z = s.transform(images)
    assert Z.dtype == np.float32                                  # pixels become float32
    np.testing.assert_allclose(Z.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=(0, 2, 3)), 1, atol=1e-4)
    s2 = Standardizer().load_state_dict(s.state_dict())
    assert s2.axis == (0, 2, 3)
    np.testing.assert_array_equal(s2.transform(images), Z)
    # a feature constant on train (MNIST's border pixels) is centred, never divided by sqrt(eps)
    train = np.zeros((10, 3), dtype=np.float32)
    train[:, 1] = np.arange(10)
    dev = np.array([[0.5, 4.5, 2.0]], dtype=np.float32)
    out = Standardizer().fit(train).transform(dev)
    np.testing.assert_allclose(out, [[0.5, 0.0, 2.0]], atol=1e-6)
    with pytest.raises(ValueError, match=r"fitted on examples of shape \(3,\)"):
        Standardizer().fit(train).transform(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="fitted on examples"):
        s.transform(np.zeros((2, 48)))
    with pytest.raises(ValueError, match="empty"):
        Standardizer().fit(np.zeros((0, 3)))
    with pytest.raises(RuntimeError, match="fit"):
        Standardizer().state_dict()


def test_standardizer_in_a_loader_applies_train_statistics_to_every_batch():
    rng = np.random.default_rng(1)
    train, dev = rng.normal(2, 4, (64, 3)), rng.normal(2, 4, (32, 3))
    s = Standardizer().fit(train)
    out = np.concatenate([b[0].data for b in DataLoader((dev, np.arange(32)), batch_size=10,
                                                        transform=s)])
    np.testing.assert_allclose(out, (dev - train.mean(0)) / train.std(0), rtol=1e-6)


def test_normalize_fits_per_channel_and_round_trips_its_state():
    rng = np.random.default_rng(0)
    X = rng.normal([1.0, -2.0, 5.0], [0.5, 2.0, 3.0], (40, 5, 5, 3)).transpose(0, 3, 1, 2)
    norm = Normalize().fit(X)
    Z = norm(X)
    np.testing.assert_allclose(Z.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=(0, 2, 3)), 1, atol=1e-5)
    again = Normalize().load_state_dict(norm.state_dict())
    np.testing.assert_array_equal(again(X), Z)
    with pytest.raises(RuntimeError, match="fit"):
        Normalize()(X)
    with pytest.raises(ValueError, match="both mean and std"):
        Normalize(mean=[0.5])
    with pytest.raises(ValueError, match="positive"):
        Normalize([0.0], [0.0])


def test_normalize_per_channel():
    X = np.ones((2, 3, 2, 2), dtype=np.float32) * np.array([1, 2, 3], dtype=np.float32)[None, :, None, None]
    out = Normalize([1, 2, 3], [1, 2, 3])(X)
    np.testing.assert_allclose(out, 0)
    with pytest.raises(ValueError, match="3 channels"):
        Normalize([0, 0, 0], [1, 1, 1])(np.zeros((1, 1, 2, 2)))


IMG = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)


def test_horizontal_flip_mirrors_exactly_the_chosen_images():
    X = np.repeat(IMG, 50, axis=0)
    out = RandomHorizontalFlip(p=0.5)(X, np.random.default_rng(0))
    flipped = np.all(out == IMG[..., ::-1], axis=(1, 2, 3))
    kept = np.all(out == IMG, axis=(1, 2, 3))
    assert np.all(flipped ^ kept) and 10 < flipped.sum() < 40
    assert np.array_equal(RandomHorizontalFlip(p=1.0)(IMG), IMG[..., ::-1])
    assert np.array_equal(RandomHorizontalFlip(p=0.0)(IMG), IMG)


def test_random_crop_returns_shifted_windows_of_the_padded_image():
    X = np.repeat(IMG, 30, axis=0)
    out = RandomCrop(4, padding=1)(X, np.random.default_rng(0))
    assert out.shape == (30, 1, 4, 4)
    padded = np.pad(IMG[0, 0], 1)
    windows = {padded[i:i + 4, j:j + 4].tobytes() for i in range(3) for j in range(3)}
    assert all(o[0].tobytes() in windows for o in out)
    assert len({o[0].tobytes() for o in out}) > 3          # really random, not a no-op
    np.testing.assert_array_equal(RandomCrop(4, padding=0)(IMG), IMG)


def test_rotation_by_90_degrees_is_rot90_and_small_angles_keep_the_centre():
    np.testing.assert_allclose(rotate(IMG, np.array([np.pi / 2]))[0, 0], np.rot90(IMG[0, 0]), atol=1e-5)
    X = np.zeros((8, 1, 9, 9), dtype=np.float32)
    X[:, :, 4, 4] = 1
    out = RandomRotation(30)(X, np.random.default_rng(0))
    np.testing.assert_allclose(out[:, 0, 4, 4], 1, atol=1e-5)
    bar = np.zeros((4, 1, 9, 9), dtype=np.float32)
    bar[:, :, 4, :] = 1
    assert not np.allclose(RandomRotation(45)(bar, np.random.default_rng(1)), bar)


def test_color_shift_adds_one_offset_per_channel():
    X = np.zeros((5, 3, 4, 4), dtype=np.float32)
    out = ColorShift(0.2)(X, np.random.default_rng(0))
    per_channel = out.reshape(5, 3, -1)
    assert np.all(per_channel.std(axis=2) < 1e-7)           # constant within a channel
    assert np.all(np.abs(per_channel[:, :, 0]) <= 0.2) and np.abs(per_channel).max() > 0.01


def test_pca_color_augmentation_moves_along_principal_axes():
    rng = np.random.default_rng(0)
    # pixels vary along one color direction only: (1, 1, 1) grey level
    grey = rng.random((20, 1, 8, 8)).astype(np.float32)
    X = np.repeat(grey, 3, axis=1)
    pca = PCAColorAugmentation(std=0.5).fit(X)
    out = pca(X, np.random.default_rng(1))
    shift = (out - X).reshape(20, 3, -1)[:, :, 0]
    np.testing.assert_allclose(shift[:, 0], shift[:, 1], atol=1e-5)   # along (1,1,1)
    np.testing.assert_allclose(shift[:, 1], shift[:, 2], atol=1e-5)
    assert np.abs(shift).max() > 1e-3
    with pytest.raises(RuntimeError, match="fit"):
        PCAColorAugmentation()(X)


def test_flip_choice_follows_the_seed_and_keeps_dtype():
    X = np.random.default_rng(0).integers(0, 256, (20, 3, 5, 6)).astype(np.uint8)
    out = RandomHorizontalFlip(0.5)(X, 4)                      # an int seeds it
    chosen = np.random.default_rng(4).random(20) < 0.5         # one draw per image
    np.testing.assert_array_equal(out[chosen], X[chosen][..., ::-1])
    np.testing.assert_array_equal(out[~chosen], X[~chosen])
    assert out.dtype == np.uint8 and 0 < chosen.sum() < 20
    np.testing.assert_array_equal(RandomHorizontalFlip()(X, 4), out)   # seedable: same again
    assert not np.shares_memory(out, X)


def test_random_crop_is_the_padded_window_at_the_drawn_offset():
    img = np.arange(1, 26, dtype=np.float32).reshape(1, 1, 5, 5)
    X = np.repeat(img, 12, axis=0)
    out = RandomCrop(5, padding=2, fill=-1)(X, 9)
    r = np.random.default_rng(9)
    top, left = r.integers(0, 5, 12), r.integers(0, 5, 12)
    padded = np.pad(img[0, 0], 2, constant_values=-1)
    for k in range(12):
        np.testing.assert_array_equal(out[k, 0], padded[top[k]:top[k] + 5, left[k]:left[k] + 5])
    shifted = RandomCrop((3, 5), padding=0)(img, 1)            # a smaller (h, w) window
    assert shifted.shape == (1, 1, 3, 5)
    assert any(np.array_equal(shifted[0, 0], img[0, 0, i:i + 3]) for i in range(3))
    with pytest.raises(ValueError, match="larger than the padded image"):
        RandomCrop(8, padding=1)(img)
    with pytest.raises(ValueError, match="padding"):
        RandomCrop(4, padding=-1)


@pytest.mark.parametrize("degrees", [30.0, -50.0, 137.0])
def test_rotation_equals_scipy_bilinear_rotation(degrees):
    ndimage = pytest.importorskip("scipy.ndimage")
    img = np.random.default_rng(0).random((9, 11))
    ours = rotate(img[None, None], np.array([np.deg2rad(degrees)]))[0, 0]
    ref = ndimage.rotate(img, degrees, reshape=False, order=1, mode="grid-constant", cval=0.0)
    np.testing.assert_allclose(ours, ref, atol=1e-12)          # counter-clockwise, bilinear


def test_random_rotation_draws_one_angle_per_image_from_the_range():
    X = np.random.default_rng(0).random((6, 2, 7, 7)).astype(np.float32)
    out = RandomRotation(25)(X, 3)
    angles = np.deg2rad(np.random.default_rng(3).uniform(-25, 25, 6))
    np.testing.assert_allclose(out, rotate(X, angles), atol=1e-6)
    assert out.dtype == np.float32 and not np.allclose(out, X)
    np.testing.assert_allclose(RandomRotation(0)(X, 0), X, atol=1e-6)   # 0 degrees: identity
    np.testing.assert_allclose(rotate(X[:1], np.array([np.pi]))[0], X[0, :, ::-1, ::-1], atol=1e-5)


def test_color_shift_offsets_are_the_drawn_uniforms():
    X = np.random.default_rng(0).random((4, 3, 5, 5)).astype(np.float32)
    out = ColorShift(0.25)(X, 6)
    offsets = np.random.default_rng(6).uniform(-0.25, 0.25, (4, 3, 1, 1))
    np.testing.assert_allclose(out, X + offsets, atol=1e-6)
    with pytest.raises(ValueError, match="shift"):
        ColorShift(-1)


def test_pca_color_shift_is_eigenvectors_times_alpha_lambda():
    vecs = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))[0]
    vals = np.array([4.0, 1.0, 0.25])
    X = np.zeros((5, 3, 2, 2), dtype=np.float32)
    out = PCAColorAugmentation(std=0.1, eigenvalues=vals, eigenvectors=vecs)(X, 2)
    alpha = np.random.default_rng(2).normal(0.0, 0.1, (5, 3))
    expected = np.stack([vecs @ (alpha[n] * vals) for n in range(5)])   # [p1 p2 p3][a_i l_i]
    np.testing.assert_allclose(out[:, :, 0, 0], expected, atol=1e-6)
    np.testing.assert_allclose(out[:, :, 1, 1], expected, atol=1e-6)    # same at every pixel
    fitted = PCAColorAugmentation().fit(np.random.default_rng(1).random((8, 3, 4, 4)))
    assert fitted.eigenvalues.shape == (3,) and (fitted.eigenvalues > 0).all()
    with pytest.raises(ValueError, match="3 color channels"):
        fitted(np.zeros((1, 1, 2, 2)))


def test_compose_applies_in_order_from_one_generator():
    X = np.random.default_rng(0).random((6, 1, 5, 5)).astype(np.float32)
    out = Compose([RandomCrop(5, padding=1), RandomHorizontalFlip(), lambda Xb: Xb * 2])(X, 8)
    r = np.random.default_rng(8)
    expected = RandomHorizontalFlip()(RandomCrop(5, padding=1)(X, r), r) * 2
    np.testing.assert_array_equal(out, expected)
    with pytest.raises(TypeError, match="callable"):
        Compose([RandomHorizontalFlip(), 3])
    with pytest.raises(TypeError, match="rng"):
        RandomHorizontalFlip()(X, "seed")


def test_compose_and_shape_errors():
    aug = Compose([RandomCrop(4, padding=2), RandomHorizontalFlip()])
    assert aug(np.repeat(IMG, 3, axis=0), np.random.default_rng(0)).shape == (3, 1, 4, 4)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        RandomHorizontalFlip()(np.zeros((4, 4)))
