"""Transforms of label maps."""
