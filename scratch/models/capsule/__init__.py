"""Capsule networks (spec capsule.md): squash, margin loss and the capsule layers (``layers``), the
networks and the two-digit experiment (``networks``). Routing itself is the kernel
``scratch.kernels.routing``; training is ``scratch.training.fit`` with ``loss_of="inputs"``."""
from .layers import (REDUCTIONS, SABOUR_MARGIN, SCALAR_REDUCTIONS, CapsuleLayer, Margin, PrimaryCaps, capsule_lengths,
                     margin_loss, squash)
from .networks import (EVAL_BATCH_SIZE, MODEL_NAMES, SMALL_WIDTHS, SQUASH_EPS, SU_WIDTHS, TWO_DIGIT_MODELS, CNNBaseline,
                       SabourCapsNet, SuCapsuleNet, Training, build_model, routing_coefficients, two_digit_metrics,
                       two_digit_pairs)

__all__ = ["REDUCTIONS", "SABOUR_MARGIN", "SCALAR_REDUCTIONS", "CapsuleLayer", "Margin", "PrimaryCaps",
           "capsule_lengths", "margin_loss", "squash", "EVAL_BATCH_SIZE", "MODEL_NAMES", "SMALL_WIDTHS", "SQUASH_EPS",
           "SU_WIDTHS", "TWO_DIGIT_MODELS", "CNNBaseline", "SabourCapsNet", "SuCapsuleNet", "Training", "build_model",
           "routing_coefficients", "two_digit_metrics", "two_digit_pairs"]
