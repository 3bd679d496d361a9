"""Capsule networks (spec capsule.md): squash, margin loss and the capsule layers (``layers``), the
networks and the two-digit experiment (``networks``). Routing itself is the kernel
``scratch.kernels.routing``."""
from .layers import CapsuleLayer, PrimaryCaps, capsule_lengths, margin_loss, squash
from .networks import (MODEL_NAMES, SMALL_WIDTHS, SU_WIDTHS, CNNBaseline, SabourCapsNet, SuCapsuleNet, build_model,
                       routing_coefficients, two_digit_metrics, two_digit_pairs)

__all__ = ["CapsuleLayer", "PrimaryCaps", "capsule_lengths", "margin_loss", "squash", "MODEL_NAMES", "SMALL_WIDTHS",
           "SU_WIDTHS", "CNNBaseline", "SabourCapsNet", "SuCapsuleNet", "build_model", "routing_coefficients",
           "two_digit_metrics", "two_digit_pairs"]
