"""The data pipeline: DataLoader partition and fast path, threads, splits, normalization,
and what each augmentation does to a known image."""
import threading

import numpy as np
import pytest

import gradwise as gw
from gradwise.data import (
    ColorShift, Compose, DataLoader, Dataset, PCAColorAugmentation, RandomCrop,
    RandomHorizontalFlip, RandomRotation, Standardizer, TensorDataset, Normalize, random_split,
    rotate, train_dev_test_split,
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


def test_compose_and_shape_errors():
    aug = Compose([RandomCrop(4, padding=2), RandomHorizontalFlip()])
    assert aug(np.repeat(IMG, 3, axis=0), np.random.default_rng(0)).shape == (3, 1, 4, 4)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        RandomHorizontalFlip()(np.zeros((4, 4)))
