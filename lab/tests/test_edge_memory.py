"""Chunked edge-wise losses keep their peak memory bounded by the chunk (measured in fresh processes)."""

import pytest


@pytest.mark.slow
def test_chunking_bounds_peak_memory():
    from lab.edge_memory import edge_loss_memory

    # 400k edges x 50 classes: one [E, C] float tensor is 76 MiB
    full = edge_loss_memory(20_000, 400_000, 50, None, "hfd")
    chunked = edge_loss_memory(20_000, 400_000, 50, 20_000, "hfd")
    assert full["peak_extra_mib"] > 3 * full["edge_class_tensor_mib"] * 0.5
    assert chunked["peak_extra_mib"] < full["peak_extra_mib"] / 3
