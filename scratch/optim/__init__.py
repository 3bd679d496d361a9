"""Optimizers (SGD, Adam, AdamW, Adagrad; dense or lazy-sparse), learning-rate schedules, gradient clipping."""
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import clip_grad_norm
from .optimizer import Optimizer
from .schedules import linear_decay, warmup_cosine
from .sgd import SGD

__all__ = ["Adagrad", "Adam", "AdamW", "clip_grad_norm", "Optimizer", "linear_decay", "warmup_cosine", "SGD"]
