import json

import pytest
import torch

from g2m.cache import CacheKey, TeacherCache, load_cached_teacher
from g2m.config import TeacherConfig
from g2m.data import load_dataset, make_node_split
from g2m.errors import CacheCorruptError, CacheMismatchError
from g2m.training.node_teacher import train_node_teacher

KEY = CacheKey("cora", "node", "transductive-public-s0-abc", "gcn-1234", 0)


def test_roundtrip(tmp_path):
    cache = TeacherCache(tmp_path)
    tensors = {"logits": torch.randn(5, 3), "hidden": torch.randn(5, 8)}
    path = cache.save(KEY, tensors, {"scores": {"test": 0.5}})
    rec = cache.load(KEY)
    assert rec.path == path and rec.meta["scores"] == {"test": 0.5}
    assert all(torch.equal(rec.tensors[k], tensors[k]) for k in tensors)
    assert rec.meta["code_version"] and len(rec.meta["content_hash"]) == 64
    # overwrite in place leaves exactly one entry
    cache.save(KEY, {"logits": torch.zeros(5, 3)}, {"scores": {}})
    assert torch.equal(cache.load(KEY).tensors["logits"], torch.zeros(5, 3))
    assert sorted(p.name for p in path.parent.iterdir()) == ["seed0"]


@pytest.mark.parametrize(
    "field,value",
    [("dataset", "citeseer"), ("split", "transductive-public-s1-def"), ("model", "sage-1234"), ("seed", 1)],
)
def test_mismatch_is_refused(tmp_path, field, value):
    cache = TeacherCache(tmp_path)
    path = cache.save(KEY, {"logits": torch.randn(2, 2)}, {})
    other = CacheKey(**{**KEY.__dict__, field: value})
    with pytest.raises(CacheMismatchError, match=field):
        load_cached_teacher(path, expect=other)


def test_corruption_is_detected(tmp_path):
    cache = TeacherCache(tmp_path)
    path = cache.save(KEY, {"logits": torch.randn(4, 2)}, {})
    torch.save({"logits": torch.randn(4, 2)}, path / "tensors.pt")
    with pytest.raises(CacheCorruptError, match="content hash"):
        cache.load(KEY)
    meta = json.loads((path / "meta.json").read_text())
    assert meta["tensors"] == {"logits": [4, 2]}


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    cache = TeacherCache(tmp_path)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        cache.save(KEY, {"logits": torch.randn(2, 2)}, {})
    assert not cache.exists(KEY)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == []
    assert list(cache.path(KEY).parent.iterdir()) == []


def test_inductive_teacher_outputs_follow_glnn_protocol():
    g = load_dataset("csbm", num_nodes=600, num_classes=3, avg_degree=6, seed=0)
    split = make_node_split(g, "random", "inductive", seed=0)
    out = train_node_teacher(g, split, TeacherConfig(hidden=16, epochs=5, patience=5), seed=0, progress=False)
    view = split.observed_view(g)
    with torch.no_grad():
        full = out.model(g.x, g.edge_index)
        observed = out.model(view.x, view.edge_index)
    torch.testing.assert_close(out.logits[split.test_ind], full[split.test_ind])
    torch.testing.assert_close(out.logits[split.observed], observed)
    # the two views differ: held-out neighbours do change observed nodes' full-graph logits
    assert not torch.allclose(full[split.observed], observed)


def test_a_changed_graph_under_the_same_name_never_reuses_its_teacher(tmp_path):
    """The cache key carries the graph's fingerprint: the same dataset name, split and teacher on
    a graph whose features changed trains a new teacher instead of reading the old one."""
    from dataclasses import replace as dc_replace

    from g2m.cache import TeacherCache
    from g2m.config import TeacherConfig
    from g2m.data import load_dataset, make_node_split
    from g2m.data.link_splits import make_link_split
    from g2m.experiments.teachers import get_node_teacher

    g = load_dataset("csbm", num_nodes=300)
    changed = dc_replace(g, x=g.x + 0.5)
    split, split2 = make_node_split(g, "random", seed=0), make_node_split(changed, "random", seed=0)
    assert torch.equal(split.train, split2.train) and split.key() != split2.key()
    assert make_link_split(g).key() != make_link_split(changed).key()
    assert g.fingerprint() == load_dataset("csbm", num_nodes=300).fingerprint()
    cache = TeacherCache(tmp_path)
    cfg = TeacherConfig(epochs=2, patience=2)
    assert not get_node_teacher(g, split, cfg, 0, "accuracy", cache, progress=False)[2]
    assert get_node_teacher(g, split, cfg, 0, "accuracy", cache, progress=False)[2]  # same graph: read
    assert not get_node_teacher(changed, split2, cfg, 0, "accuracy", cache, progress=False)[2]  # trained
