"""The data pipeline: datasets, the DataLoader, splits, normalization and augmentation."""
from .dataset import Dataset, Subset, TensorDataset, collate
from .loader import DataLoader, random_mini_batches, random_state
from .normalize import Normalize, Standardizer
from .sequence import Vocabulary, bptt_batches, pad_sequences
from .split import random_split, train_dev_test_split
from .transforms import (
    ColorShift,
    Compose,
    PCAColorAugmentation,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
    rotate,
)

__all__ = [
    "Dataset", "Subset", "TensorDataset", "collate", "DataLoader", "random_mini_batches",
    "random_state",
    "Normalize", "Standardizer", "random_split", "train_dev_test_split", "Compose",
    "RandomHorizontalFlip", "RandomCrop",
    "RandomRotation", "rotate", "ColorShift", "PCAColorAugmentation",
    "Vocabulary", "pad_sequences", "bptt_batches",
]
