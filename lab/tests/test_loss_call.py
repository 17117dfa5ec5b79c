"""python -m lab loss-call: one row per g2m.nn module, timed through the shared timing helper."""

import torch

from lab.loss_call import bench_loss_call


def test_every_module_is_timed_against_kd():
    gen = torch.Generator().manual_seed(0)
    edge_index = torch.randint(0, 50, (2, 200), generator=gen)
    edge_index = torch.cat([edge_index, edge_index.flip(0)], 1)
    rows = bench_loss_call(edge_index, 50, 4, repeats=2, calls=2)
    assert [r["loss"] for r in rows] == [
        "KDLoss()",
        "LFDLoss()",
        "LFDLoss(cached=True)",
        "HFDLoss()",
        "HFDLoss(cached=True)",
        "FFG2MLoss()",
        "FFG2MLoss(cached=True)",
    ]
    assert all(r["ms_per_call"] > 0 for r in rows) and rows[0]["vs_kd"] == 1.0
    assert {r["nodes"] for r in rows} == {50} and {r["edges"] for r in rows} == {400}
