"""Perturb-max distributions (spec Part A): probabilities, losses and samples (``distribution``), the
noise laws and quadrature rules (``laws``), and the experiments of the post (``experiment``)."""
from .distribution import (KINDS, SAMPLE_MODES, perturb_max_log_probs, perturb_max_loss, perturb_max_potential,
                           perturb_max_probs, perturb_max_sample, quadrature_size)
from .laws import LAWS

__all__ = ["KINDS", "SAMPLE_MODES", "perturb_max_log_probs", "perturb_max_loss", "perturb_max_potential",
           "perturb_max_probs", "perturb_max_sample", "quadrature_size", "LAWS"]
