"""The training loops: one for classifiers (``classifier``), one for language models (``lm``)."""
from .classifier import accuracy, fit, minibatches, predict
from .lm import TrainConfig, evaluate_lm, lm_loss, sample, train_lm

__all__ = ["accuracy", "fit", "minibatches", "predict", "TrainConfig", "evaluate_lm", "lm_loss", "sample",
           "train_lm"]
