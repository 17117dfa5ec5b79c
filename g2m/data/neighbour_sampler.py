"""Neighbour sampling for mini-batch GNNs: PyG's ``NeighborLoader`` or g2m's CSR sampler.

``sampler="pyg"`` samples with :class:`torch_geometric.loader.NeighborLoader` (needs the
compiled ``pyg-lib`` or ``torch-sparse``; PyG samples without replacement).
``sampler="g2m"`` is :func:`g2m.data.sampling.sample_neighbourhood` (pure PyTorch, draws
with replacement and merges repeats). ``"auto"`` takes PyG's when it is installed. Asking
for ``"pyg"`` without it raises; nothing falls back silently. Both return a
:class:`~g2m.data.sampling.Neighbourhood` with the seeds first and edges pointing from
neighbour to the node it informs, so trainers and benchmarks take either.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from g2m.data.sampling import Neighbourhood, sample_neighbourhood, to_csr
from g2m.methods import SAMPLERS
from g2m.optional import resolve_choice


def has_pyg_sampler() -> bool:
    """Whether PyG's neighbour sampling has a compiled backend (pyg-lib or torch-sparse)."""
    import torch_geometric.typing as pyg_typing

    return bool(pyg_typing.WITH_PYG_LIB or pyg_typing.WITH_TORCH_SPARSE)


def resolve_sampler(name: str = "auto") -> str:
    """``"auto"`` -> ``"pyg"`` when PyG can sample, else ``"g2m"``; validates the name."""
    return resolve_choice(
        "sampler",
        name,
        SAMPLERS,
        "pyg",
        "g2m",
        has_pyg_sampler(),
        "pyg-lib or torch-sparse (pip install --no-build-isolation torch-sparse)",
        "sampler",
    )


class NeighbourSampler:
    """``sampler(seeds)`` -> the seeds' sampled ``len(fanouts)``-hop computation graph.

    ``fanouts[k]`` neighbours per node at hop ``k`` (``-1``: all of them). Randomness:
    the g2m sampler draws from ``generator``; PyG's backends draw from torch's global
    generator (seeded by ``torch.manual_seed``).
    """

    def __init__(
        self,
        edge_index: Tensor,
        num_nodes: int,
        fanouts: tuple[int, ...] | list[int],
        sampler: str = "auto",
        generator: torch.Generator | None = None,
    ) -> None:
        if not fanouts or any(f == 0 or f < -1 for f in fanouts):
            raise ValueError(f"fan-outs must be positive or -1 (all neighbours), got {tuple(fanouts)}")
        self.backend = resolve_sampler(sampler)
        self.fanouts = tuple(int(f) for f in fanouts)
        self.generator = generator
        if self.backend == "g2m":
            self._csr = to_csr(edge_index, num_nodes)
        else:
            from torch_geometric.data import Data
            from torch_geometric.loader import NeighborLoader

            with warnings.catch_warnings():
                # PyG deprecates torch-sparse sampling in favour of pyg-lib, which has no
                # build for this torch on the package index; torch-sparse is what we have.
                warnings.filterwarnings("ignore", message=".*without a 'pyg-lib' installation.*")
                self._loader = NeighborLoader(
                    Data(edge_index=edge_index, num_nodes=num_nodes),
                    num_neighbors=list(self.fanouts),
                    batch_size=1,  # unused: batches come from __call__
                )

    def __call__(self, seeds: Tensor) -> Neighbourhood:
        if self.backend == "g2m":
            return sample_neighbourhood(self._csr, seeds, self.fanouts, self.generator)
        batch = self._loader(seeds)
        return Neighbourhood(batch.n_id, batch.edge_index, seeds.numel())

    def __repr__(self) -> str:
        return f"NeighbourSampler({self.backend}, fanouts={self.fanouts})"
