"""Sample subjects and public datasets (TorchIO 2's ``torchio.datasets``),
as tioxide subjects. Downloads go to TorchIO's cache folder, so data fetched
by either library serves both; see :mod:`tioxide.download`."""

from .fpg import FPG
from .itk_snap import T1T2, AorticValve, BrainTumor
from .ixi import ixi, ixi_tiny
from .medmnist import (
    adrenal_mnist_3d,
    fracture_mnist_3d,
    nodule_mnist_3d,
    organ_mnist_3d,
    synapse_mnist_3d,
    vessel_mnist_3d,
)
from .mni import Colin27, ICBM2009CNonlinearSymmetric, Pediatric, Sheep
from .slicer import Slicer
from .zone_plate import ZonePlate

__all__ = [
    "FPG",
    "T1T2",
    "AorticValve",
    "BrainTumor",
    "Colin27",
    "ICBM2009CNonlinearSymmetric",
    "Pediatric",
    "Sheep",
    "Slicer",
    "ZonePlate",
    "adrenal_mnist_3d",
    "fracture_mnist_3d",
    "ixi",
    "ixi_tiny",
    "nodule_mnist_3d",
    "organ_mnist_3d",
    "synapse_mnist_3d",
    "vessel_mnist_3d",
]
