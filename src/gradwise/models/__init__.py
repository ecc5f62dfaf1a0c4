"""The model zoo: classic architectures built from gradwise.nn."""
from .char_rnn import CharRNN, sample
from .convnets import VGG16, VGG16_CONFIG, AlexNet, DeepConvNet, LeNet5, SimpleConvNet
from .inception import InceptionModule, SmallGoogLeNet, bottleneck_multiplies, conv_multiplies
from .perceptron import GATE_WEIGHTS, XOR, Perceptron
from .resnet import (
    BasicBlock,
    Bottleneck,
    ConvolutionalBlock,
    IdentityBlock,
    ResNet,
    SmallResNet,
    resnet18,
    resnet34,
    resnet50,
)
from .transfer import freeze, replace_head, trainable_parameters, unfreeze

__all__ = [
    "Perceptron", "XOR", "GATE_WEIGHTS",
    "SimpleConvNet", "DeepConvNet", "LeNet5", "AlexNet", "VGG16", "VGG16_CONFIG",
    "IdentityBlock", "ConvolutionalBlock", "BasicBlock", "Bottleneck", "ResNet", "SmallResNet",
    "resnet18", "resnet34", "resnet50",
    "InceptionModule", "SmallGoogLeNet", "conv_multiplies", "bottleneck_multiplies",
    "freeze", "unfreeze", "trainable_parameters", "replace_head", "CharRNN", "sample",
]
