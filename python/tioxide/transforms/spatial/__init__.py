"""Spatial transforms: they change the geometry of every image of a subject."""
