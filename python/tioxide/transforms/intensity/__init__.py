"""Intensity transforms: they change the voxel values of scalar images only."""
