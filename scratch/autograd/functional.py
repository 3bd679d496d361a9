"""Composite and fused neural-network functions (softmax, losses, normalisation, convolution)."""
