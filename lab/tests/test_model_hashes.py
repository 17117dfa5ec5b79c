import pytest
import torch

from lab.model_hashes import model_hashes


@pytest.mark.slow  # 138 configurations, three steps each
def test_hashes_are_deterministic_and_move_when_the_numerics_do(monkeypatch):
    first = list(model_hashes(nodes=40, features=6, classes=3, hidden=8))
    assert len(first) == 138 and len(set(first)) == len(first)
    assert first == list(model_hashes(nodes=40, features=6, classes=3, hidden=8))
    assert any(line.startswith("gat ") for line in first) and any(line.startswith("mlp ") for line in first)
    # one more draw from the seed's stream before a model is built: every line changes
    original = torch.manual_seed

    def seed_and_draw(seed):
        gen = original(seed)
        torch.rand(1)
        return gen

    monkeypatch.setattr(torch, "manual_seed", seed_and_draw)
    moved = list(model_hashes(nodes=40, features=6, classes=3, hidden=8))
    assert all(a != b for a, b in zip(first, moved))
