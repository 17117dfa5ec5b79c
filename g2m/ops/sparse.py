r"""Sparse operands for full-graph training: a CSR adjacency and CSR node features.

Message passing over an ``edge_index`` materialises one message per edge,
:math:`E \times H` floats per layer (Amazon Photo at 2,048 hidden units: 238,162 x 2,048
floats, 1.9 GB, each forward). A CSR adjacency :math:`A^\top` turns the same aggregation
into one sparse-dense product (SpMM) that writes only the :math:`N \times H` output;
PyG's ``GCNConv``, ``SAGEConv`` and ``APPNP`` take it in place of ``edge_index``.

Bag-of-words features (Coauthor CS: 0.9 % non-zero, 6,805 columns) make the first layer
:math:`XW` a sparse-dense product too; :func:`sparse_features` stores them as CSR when
they are sparse enough for that to pay.

Both give the dense results up to float rounding (tested); they change speed and memory
only.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import torch
from torch import Tensor
from torch_geometric.utils import to_torch_csr_tensor

#: Features with at most this share of non-zeros are stored as CSR. At 10 % a CSR
#: product reads about a fifth of the dense operand's bytes (values plus column indices).
SPARSE_FEATURE_DENSITY = 0.1


@contextlib.contextmanager
def quiet_csr() -> Iterator[None]:
    """Silence torch's notes on each CSR construction (beta support, unchecked invariants).

    Our constructions are valid by construction and tested.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
        yield


def is_sparse(x: Tensor) -> bool:
    """Whether ``x`` is a sparse (COO or CSR) tensor rather than a strided one."""
    return x.layout != torch.strided


def csr_adjacency(edge_index: Tensor, num_nodes: int) -> Tensor:
    r"""The CSR matrix :math:`A^\top` (row :math:`i` lists the sources of edges into :math:`i`).

    ``edge_index`` must be coalesced (no duplicate edges); with duplicates, PyG's
    ``edge_index`` path counts an edge once per copy, the CSR path once in all.
    """
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    with quiet_csr():
        return to_torch_csr_tensor(edge_index.flip(0), size=(num_nodes, num_nodes))


def sparse_features(x: Tensor, max_density: float = SPARSE_FEATURE_DENSITY) -> Tensor:
    """``x`` as a CSR tensor when at most ``max_density`` of its entries are non-zero, else ``x``."""
    if is_sparse(x) or x.dim() != 2 or x.numel() == 0:
        return x
    if torch.count_nonzero(x).item() > max_density * x.numel():
        return x
    with quiet_csr():
        return x.to_sparse_csr()


def dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Dropout that keeps a CSR ``x`` sparse: zeros stay zero, so only stored values drop."""
    if not is_sparse(x):
        return torch.nn.functional.dropout(x, p, training)
    if not training or p == 0.0:
        return x
    values = torch.nn.functional.dropout(x.values(), p, True)
    with quiet_csr():
        return torch.sparse_csr_tensor(x.crow_indices(), x.col_indices(), values, x.shape, device=x.device)


def csr_rows(t: Tensor, start: int, stop: int) -> Tensor:
    """Rows ``[start, stop)`` of a CSR matrix, as a CSR matrix with every column (its own copy of
    the rows' entries, so that the whole matrix can be freed)."""
    crow = t.crow_indices()
    lo, hi = int(crow[start]), int(crow[stop])
    with quiet_csr():
        return torch.sparse_csr_tensor(
            crow[start : stop + 1] - lo,
            t.col_indices()[lo:hi].clone(),
            t.values()[lo:hi].clone(),
            size=(stop - start, t.size(1)),
            device=t.device,
        )


def row_block(x: Tensor, start: int, stop: int) -> Tensor:
    """Rows ``[start, stop)`` of dense or CSR features, dense or CSR as given."""
    return csr_rows(x, start, stop) if is_sparse(x) else x[start:stop]
