"""The front door: g2m.distill on a user's PyG Data and model (or logits), the README's snippet
on real Cora, and the CLI on a user's graph file and teacher logits."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.nn import GCN, GraphSAGE
from torch_geometric.utils import to_undirected
from typer.testing import CliRunner

import g2m
from conftest import REPO
from g2m.cli.main import app
from g2m.data.csbm import csbm_tensors
from g2m.data.graph_file import graph_file_spec, read_graph_file
from g2m.data.splits import make_node_split
from g2m.errors import G2MError, InvalidGraphError
from g2m.students.position import PositionedStudent

FAST = {"epochs": 30, "patience": 30, "hidden": 32}


def _train_gnn(model, data, epochs=60, seed=0):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    for _ in range(epochs):
        model.train()
        opt.zero_grad()
        out = model(data.x, data.edge_index)
        torch.nn.functional.cross_entropy(out[data.train_mask], data.y[data.train_mask]).backward()
        opt.step()
    return model.eval()


@pytest.fixture(scope="module")
def tiny():
    x, y, edges = csbm_tensors(num_nodes=300, num_classes=3, avg_degree=5, homophily=0.8, num_features=16, seed=3)
    gen = torch.Generator().manual_seed(0)
    perm = torch.randperm(300, generator=gen)
    masks = [torch.zeros(300, dtype=torch.bool) for _ in range(3)]
    for mask, part in zip(masks, (perm[:60], perm[60:120], perm[120:])):
        mask[part] = True
    data = Data(x=x, y=y, edge_index=to_undirected(edges), train_mask=masks[0], val_mask=masks[1], test_mask=masks[2])
    torch.manual_seed(0)
    gcn = _train_gnn(GCN(16, 32, num_layers=2, out_channels=3), data)
    return data, gcn


def test_distill_a_pyg_model_beats_the_plain_mlp(tiny):
    data, gcn = tiny
    mlp = g2m.distill(data, gcn, method="mlp", **FAST)
    glnn = g2m.distill(data, gcn, method="glnn", **FAST)
    assert set(glnn.scores) == {"val", "test"} and glnn.teacher_scores["test"] > 0.6
    assert glnn.scores["test"] > mlp.scores["test"] + 0.05  # the teacher's knowledge reached the student
    with torch.no_grad():  # the student takes raw features and gives the result's logits
        torch.testing.assert_close(glnn.student(data.x).cpu(), glnn.logits)
    assert glnn.config.method == "glnn" and glnn.config.hidden == 32 and len(glnn.history) >= 1


def test_logits_tensor_equals_module_teacher(tiny):
    data, gcn = tiny
    with torch.no_grad():
        logits = gcn(data.x, data.edge_index)
    a = g2m.distill(data, gcn, method="ffg2m", **FAST)
    b = g2m.distill(data, logits, method="ffg2m", **FAST)
    torch.testing.assert_close(a.logits, b.logits)
    assert a.teacher_scores == b.teacher_scores


def test_bad_inputs_get_one_clear_error(tiny):
    data, gcn = tiny
    directed = Data(
        x=data.x,
        y=data.y,
        edge_index=data.edge_index[:, data.edge_index[0] < data.edge_index[1]],
        train_mask=data.train_mask,
        val_mask=data.val_mask,
        test_mask=data.test_mask,
    )
    with pytest.raises(InvalidGraphError, match="symmetrize=True"):
        g2m.distill(directed, gcn, method="glnn", **FAST)
    assert g2m.distill(directed, gcn, method="glnn", symmetrize=True, **FAST).scores["test"] > 0.5
    with pytest.raises(G2MError, match="unknown StudentConfig fields \\['temperature'\\]"):
        g2m.distill(data, gcn, method="glnn", temperature=2.0)
    with pytest.raises(G2MError, match="expected \\[300, C\\]"):
        g2m.distill(data, torch.zeros(299, 3), method="glnn")
    with pytest.raises(G2MError, match="nn.Module or a \\[N, C\\] logits tensor"):
        g2m.distill(data, "gcn.pt", method="glnn")
    no_masks = Data(x=data.x, y=data.y, edge_index=data.edge_index)
    with pytest.raises(G2MError, match="no split"):
        g2m.distill(no_masks, gcn, method="glnn")
    with pytest.raises(G2MError, match="entropy shift"):
        g2m.distill(data, torch.zeros(300, 3), method="krd")


def test_explicit_split_and_inductive_split(tiny):
    data, gcn = tiny
    idx = torch.arange(300)
    out = g2m.distill(
        Data(x=data.x, y=data.y, edge_index=data.edge_index),
        gcn,
        method="glnn",
        split=(idx[:60], idx[60:120], idx[120:]),
        **FAST,
    )
    assert out.split.train.tolist() == list(range(60))
    graph = g2m.graph_from_data(data)
    inductive = make_node_split(graph, "public", "inductive", 0)
    ind = g2m.distill(data, gcn, method="ffg2m", split=inductive, **FAST)
    assert set(ind.scores) == {"val", "test", "test_ind"} and "test_ind" in ind.teacher_scores


def test_hidden_by_hook_and_position_features_are_folded_in(tiny):
    data, _ = tiny
    sage = _train_gnn(GraphSAGE(16, 32, num_layers=2, out_channels=3), data, epochs=30)
    out = g2m.distill(data, sage, method="nosmog", position_dim=8, position_walk_length=6, position_window=2, **FAST)
    assert isinstance(out.student, PositionedStudent) and out.student.position.shape == (300, 8)
    with torch.no_grad():
        torch.testing.assert_close(out.student(data.x).cpu(), out.logits)
        rows = torch.tensor([5, 7])
        torch.testing.assert_close(out.student(data.x[rows], rows).cpu(), out.logits[rows])
    with pytest.raises(G2MError, match="teacher_hidden"):  # a module without PyG convs to hook
        g2m.distill(data, torch.nn.Sequential(), method="nosmog")


def test_saved_api_student_evaluates_and_exports_from_the_cli(tiny, tmp_path):
    data, gcn = tiny
    graph_file = tmp_path / "mygraph.pt"
    torch.save(data, graph_file)
    out = g2m.distill(data, gcn, method="glnn", **FAST)
    out.save(tmp_path / "student", dataset=str(graph_file))
    runner = CliRunner()
    res = runner.invoke(app, ["eval", "--student", str(tmp_path / "student")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["scores"] == pytest.approx(out.scores)
    res = runner.invoke(app, ["export", "--student", str(tmp_path / "student"), "--out", str(tmp_path / "s.pt2")])
    assert res.exit_code == 0, res.output
    mlp = torch.export.load(str(tmp_path / "s.pt2")).module()
    torch.testing.assert_close(mlp(data.x), out.logits, atol=1e-5, rtol=0)


def test_graph_files_are_read_as_data(tiny, tmp_path):
    data, _ = tiny
    torch.save(data, tmp_path / "g.pt")
    np.savez(
        tmp_path / "g.npz",
        node_features=data.x.numpy(),
        node_labels=data.y.numpy(),
        edges=data.edge_index.t().numpy(),
        train_mask=data.train_mask.numpy(),
        val_mask=data.val_mask.numpy(),
        test_mask=data.test_mask.numpy(),
    )
    a, b = read_graph_file(tmp_path / "g.pt", "g"), read_graph_file(tmp_path / "g.npz", "g")
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.masks["train"], b.masks["train"])
    spec = graph_file_spec(tmp_path / "g.pt")
    assert re.fullmatch(r"g-[0-9a-f]{8}", spec.name) and spec.split == "public"

    class Evil:  # a pickle that would run code: refused, never executed
        def __reduce__(self):
            return (shutil.rmtree, (str(tmp_path / "victim"),))

    (tmp_path / "victim").mkdir()
    torch.save(Evil(), tmp_path / "evil.pt")
    with pytest.raises(InvalidGraphError, match="not a torch_geometric Data"):
        read_graph_file(tmp_path / "evil.pt", "evil")
    assert (tmp_path / "victim").is_dir()


def test_cli_on_a_graph_file_and_teacher_logits(tiny, tmp_path):
    data, gcn = tiny
    graph_file = tmp_path / "mygraph.pt"
    torch.save(data, graph_file)
    with torch.no_grad():
        torch.save(gcn(data.x, data.edge_index), tmp_path / "logits.pt")
    runner = CliRunner()

    def invoke(*args):
        res = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.stdout

    runs, students = tmp_path / "runs", tmp_path / "students"
    invoke(
        "run",
        "--graph",
        graph_file,
        "--methods",
        "mlp,glnn,ffg2m",
        "--seeds",
        2,
        "--out",
        runs,
        "--cache-dir",
        tmp_path / "cache",
        "--save-students",
        students,
        "--epochs",
        30,
        "--student-hidden",
        32,
        "-q",
        "--device",
        "cpu",
        "--threads",
        1,
    )
    result = json.loads((runs / "results.json").read_text())
    assert result["device"]["device"] == "cpu" and result["provenance"]["device"]["torch_threads"] == 1
    assert {r["model"] for r in result["runs"]} == {"teacher (gcn)", "mlp", "glnn", "ffg2m"}
    assert "paired by seed" in invoke("compare", runs)
    assert "| g2m ffg2m (teacher gcn) |" in invoke("leaderboard", runs, "--min-runs", 2)
    evaluated = json.loads(invoke("eval", "--student", students / "ffg2m-seed0"))
    row = next(r for r in result["runs"] if r["model"] == "ffg2m" and r["seed"] == 0)
    assert evaluated["scores"]["test"] == pytest.approx(row["test"])
    assert json.loads(invoke("export", "--student", students / "ffg2m-seed0", "--out", tmp_path / "e.pt2"))["bytes"]

    distilled = json.loads(
        invoke(
            "distill",
            "--graph",
            graph_file,
            "--teacher-logits",
            tmp_path / "logits.pt",
            "--method",
            "glnn",
            "--out",
            tmp_path / "d",
            "--epochs",
            30,
            "--hidden",
            32,
            "-q",
        )
    )
    api = g2m.distill(data, gcn, method="glnn", **FAST)
    assert distilled["scores"] == pytest.approx(api.scores)  # the CLI and the API train the same student
    assert json.loads(invoke("eval", "--student", tmp_path / "d"))["scores"] == pytest.approx(api.scores)

    bad = runner.invoke(
        app, ["distill", "--graph", str(graph_file), "--teacher-logits", str(graph_file), "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code != 0


def test_link_commands_on_a_graph_file(tiny, tmp_path):
    """The link path finds a graph file's protocol from its spec, not from the graph's name (which
    is the file's stem and digest, no registered dataset), and `g2m teacher` caches the teacher
    where `g2m run` looks for it. A link student is saved (`g2m distill --out`, `g2m run
    --save-students`), evaluated again on its rebuilt split with the same scores, and exported as one
    program from the two ends' features to the link logit."""
    from g2m.students.export import load_exported
    from g2m.students.io import load_link_student, load_student

    data, _ = tiny
    graph_file = tmp_path / "mygraph.pt"
    torch.save(data, graph_file)
    runner = CliRunner()

    def invoke(*args):
        res = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.stdout

    common = ("--task", "link", "--graph", graph_file, "--cache-dir", tmp_path / "cache", "-q")
    taught = json.loads(invoke("teacher", *common, "--epochs", 3, "--patience", 3))
    assert Path(taught["cache"]).is_dir() and taught["from_cache"] is False
    student = ("--epochs", 2, "--out", tmp_path / "d")  # a link task's default method: llp
    distilled = json.loads(invoke("distill", *common, "--teacher-cache", taught["cache"], *student))
    assert distilled["saved"] == str(tmp_path / "d") and distilled["method"] == "llp"
    evaluated = json.loads(invoke("eval", "--student", tmp_path / "d", "--graph", graph_file))
    assert evaluated["task"] == "link" and evaluated["scores"] == pytest.approx(distilled["scores"])

    encoder, scorer, _, _ = load_link_student(tmp_path / "d")
    pairs = torch.tensor([[0, 1, 2, 7, 9], [3, 4, 5, 8, 1]])
    with torch.no_grad():
        expected = scorer(encoder(data.x[pairs[0]]), encoder(data.x[pairs[1]]))
    for quantize, atol in ((None, 1e-5), ("bf16", 0.1), ("int8", 0.1)):  # any batch size; close to the student
        out = tmp_path / f"link-{quantize}.pt2"
        exported = json.loads(
            invoke("export", "--student", tmp_path / "d", "--out", out, *(["--quantize", quantize] if quantize else []))
        )
        program = load_exported(exported["exported"])
        with torch.no_grad():
            got = program(data.x[pairs[0]], data.x[pairs[1]])
        assert got.shape == (5,) and torch.allclose(got, expected, atol=atol), (quantize, got, expected)

    invoke(
        "run", *common, "--methods", "mlp", "--seeds", 1, "--epochs", 3, "--patience", 3, "--out", tmp_path / "r",
        "--save-students", tmp_path / "s",
    )  # fmt: skip
    rows = json.loads((tmp_path / "r" / "results.json").read_text())["runs"]
    assert rows[0]["cached"] is True and [r["model"] for r in rows] == ["teacher (sage)", "mlp"]
    again = json.loads(invoke("eval", "--student", tmp_path / "s" / "mlp-seed0", "--graph", graph_file))
    assert again["scores"]["rocauc"] == pytest.approx(rows[1]["rocauc"])
    with pytest.raises(G2MError, match="holds a link student"):
        load_student(tmp_path / "d")


def test_unknown_device_is_one_error_line(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "g2m.cli.main", "run", "--device", "tpu", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        "error: unknown device 'tpu'; choose one of auto, cpu, cuda or cuda:N"
    ]


def _readme_block() -> str:
    text = (REPO / "README.md").read_text()
    section = text.split("## Distil your own PyG model", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(block.strip().splitlines()) <= 12
    return block


@pytest.mark.slow
def test_readme_snippet(data_root, tmp_path, monkeypatch, capsys):
    """The README's snippet, as printed, on real Cora with a user-trained PyG GCN: GLNN and
    FF-G2M within 1 point of the teacher or above, and the exported student equal to it."""
    from torch_geometric.datasets import Planetoid

    torch.manual_seed(0)
    data = Planetoid(str(data_root), "Cora")[0]
    gcn = _train_gnn(GCN(data.num_features, 64, num_layers=2, out_channels=7, dropout=0.5), data, epochs=200)
    monkeypatch.chdir(tmp_path)
    namespace = {"data": data, "gcn": gcn}
    exec(compile(_readme_block(), "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    glnn, ffg2m = namespace["glnn"], namespace["ffg2m"]
    teacher = glnn.teacher_scores["test"]
    exported = float(capsys.readouterr().out.strip().splitlines()[-1])
    with capsys.disabled():  # the README quotes these (pytest -s shows them)
        print(
            f"\nREADME snippet, test accuracy: teacher {100 * teacher:.1f}, GLNN {100 * glnn.scores['test']:.1f}, "
            f"FF-G2M {100 * ffg2m.scores['test']:.1f}, exported FF-G2M {100 * exported:.1f}"
        )
    assert glnn.scores["test"] >= teacher - 0.01 and ffg2m.scores["test"] >= teacher - 0.01
    assert exported == pytest.approx(ffg2m.scores["test"], abs=1e-6)
    quoted = (  # the README's sentence under the snippet (the same at one thread and at two)
        f"test accuracy of the teacher {100 * teacher:.1f}, GLNN {100 * glnn.scores['test']:.1f}, FF-G2M "
        f"{100 * ffg2m.scores['test']:.1f}, the exported FF-G2M student {100 * exported:.1f}"
    )
    readme = " ".join((REPO / "README.md").read_text().split())
    assert quoted in readme, f"README.md should quote: {quoted}"


# ---------- loss modules and transforms for your own loop ----------


def test_loss_modules_equal_the_pure_losses(tiny):
    from g2m.losses.link import llp_dist_loss, llp_rank_loss
    from g2m.losses.node import hfd_loss, kd_loss, lfd_loss
    from g2m.losses.objectives import node_objective

    data, gcn = tiny
    with torch.no_grad():
        t = gcn(data.x, data.edge_index)
    s = torch.randn(300, 3, requires_grad=True)
    e = data.edge_index
    assert torch.equal(g2m.nn.KDLoss(2.0)(s, t), kd_loss(s, t, 2.0))
    assert torch.equal(g2m.nn.LFDLoss(chunk_size=64)(s, t, e), lfd_loss(s, t, e, chunk_size=64))
    assert torch.equal(g2m.nn.HFDLoss(tau=0.5)(s, t, e), hfd_loss(s, t, e, 0.5))
    full, _ = node_objective("ffg2m", s, t, data.y, torch.arange(60), e, lam=0.0, tau=0.5)
    torch.testing.assert_close(g2m.nn.FFG2MLoss(tau=0.5)(s, t, e), full)
    group = torch.arange(10).repeat_interleave(6)
    ss, ts = torch.randn(60), torch.randn(60)
    expected = llp_rank_loss(ss, ts, group, 0.1, 10) + 0.5 * llp_dist_loss(ss, ts, group, 10)
    torch.testing.assert_close(g2m.nn.LLPLoss(w_rank=1, w_dist=0.5)(ss, ts, group, 10), expected)
    with pytest.raises(ValueError, match="tau must be positive"):
        g2m.nn.HFDLoss(tau=0)
    with pytest.raises(ValueError, match="chunk_size"):
        g2m.nn.LFDLoss(chunk_size=-5)


def test_ffg2m_loss_caches_lfds_target_while_the_teacher_is_the_same(tiny):
    data, gcn = tiny
    with torch.no_grad():
        t = gcn(data.x, data.edge_index)
    e, s = data.edge_index, torch.randn(300, 3, requires_grad=True)
    plain, cached = g2m.nn.FFG2MLoss(tau=0.5), g2m.nn.FFG2MLoss(tau=0.5, cached=True)
    first = cached(s, t, e)
    assert cached._target is not None
    kept = cached._target
    assert torch.equal(cached(s, t, e), first) and cached._target is kept  # reused
    torch.testing.assert_close(first, plain(s, t, e))
    (g_cached,) = torch.autograd.grad(cached(s, t, e), s)
    (g_plain,) = torch.autograd.grad(plain(s, t, e), s)
    torch.testing.assert_close(g_cached, g_plain)
    t.mul_(2.0)  # the teacher changed in place: the target is rebuilt
    torch.testing.assert_close(cached(s, t, e), plain(s, t, e))
    assert cached._target is not kept
    other = torch.randn(300, 3)
    torch.testing.assert_close(cached(s, other, e), plain(s, other, e))


def test_transforms_compose(tiny):
    from torch_geometric.transforms import Compose

    data, gcn = tiny
    out = Compose(
        [
            g2m.transforms.AddTeacherOutputs(gcn, hidden=True),
            g2m.transforms.AddPositionFeatures(dim=8, walk_length=6, window=2),
        ]
    )(data.clone())
    with torch.no_grad():
        torch.testing.assert_close(out.teacher_logits, gcn(data.x, data.edge_index))
    assert out.teacher_hidden.shape == (300, 32) and out.position.shape == (300, 8)
    cat = g2m.transforms.AddPositionFeatures(dim=8, walk_length=6, window=2, cat=True)(data.clone())
    assert cat.x.shape == (300, 24) and torch.equal(cat.x[:, 16:], out.position)


def test_distill_link_from_a_pyg_encoder_and_scorer():
    from g2m.data.link_splits import make_link_split
    from g2m.losses.link import link_bce

    x, y, edges = csbm_tensors(
        num_nodes=600, num_classes=4, avg_degree=8, homophily=0.9, feature_signal=3.0, num_features=16, seed=0
    )
    data = Data(x=x, edge_index=to_undirected(edges))
    split = make_link_split(g2m.graph_from_data(Data(x=x, y=y, edge_index=data.edge_index)), "transductive", 0)
    torch.manual_seed(0)
    encoder = GraphSAGE(16, 32, num_layers=2)

    class Dot(torch.nn.Module):
        def forward(self, h_u, h_v):
            return (h_u * h_v).sum(-1)

    scorer = Dot()
    opt = torch.optim.Adam(encoder.parameters(), lr=0.01)
    msg = split.message_edge_index
    for _ in range(80):  # the user's own teacher loop, on the split's training edges
        opt.zero_grad()
        h = encoder(data.x, msg)
        neg = torch.randint(600, split.train_pos.shape)
        link_bce(scorer(h[split.train_pos[0]], h[split.train_pos[1]]), scorer(h[neg[0]], h[neg[1]])).backward()
        opt.step()
    common = dict(split=split, epochs=60, patience=60, hidden=32, student_scorer="dot", anchors_per_epoch=256)
    mlp = g2m.distill_link(data, encoder, scorer, method="mlp", **common)
    llp = g2m.distill_link(data, encoder, scorer, method="llp", **common)
    assert {"val", "hits@20", "mrr", "rocauc"} <= set(llp.scores)
    assert llp.teacher_scores["rocauc"] > 0.75 and llp.scores["rocauc"] > 0.6, (llp.teacher_scores, llp.scores)
    assert llp.history[0]["rank"] >= 0 and "rank" not in mlp.history[0]
    with pytest.raises(G2MError, match="unknown LinkStudentConfig fields"):
        g2m.distill_link(data, encoder, scorer, bogus=1)
    from g2m.layers import LinkScorer

    wrong = LinkScorer("mlp", 64)  # built for 64-wide embeddings; the encoder gives 32
    with pytest.raises(G2MError, match=r"failed on two \[\d+, 32\] tensors .* this encoder's 32-wide output"):
        g2m.distill_link(data, encoder, wrong, **common)


def test_distill_link_from_a_heuristic_teacher(tmp_path):
    """EHDM's way: no teacher model, its common-neighbour scores on the split's training edges. The
    student saved from the API is evaluated by `g2m eval` on the graph file with the same scores."""
    x, y, edges = csbm_tensors(num_nodes=400, num_classes=3, avg_degree=10, num_features=16, feature_signal=2.0, seed=0)
    data = Data(x=x, y=y, edge_index=to_undirected(edges))
    out = g2m.distill_link(data, "cn", None, method="llp", epochs=60, patience=60, hidden=32, anchors_per_epoch=0)
    assert {"val", "hits@20", "rocauc"} <= set(out.teacher_scores) and out.scores["rocauc"] > 0.6
    assert out.history[0]["rank"] >= 0
    out.save(tmp_path / "student")
    torch.save(data, tmp_path / "g.pt")
    runner = CliRunner()
    done = runner.invoke(app, ["eval", "--student", str(tmp_path / "student"), "--graph", str(tmp_path / "g.pt")])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["scores"] == pytest.approx(out.scores)
    refused = runner.invoke(app, ["eval", "--student", str(tmp_path / "student")])
    assert isinstance(refused.exception, G2MError) and "--graph FILE" in str(refused.exception)
    scorer = torch.nn.Bilinear(4, 4, 1)
    for args, kwargs, match in [
        (("cn", scorer), {}, "give scorer=None"),
        (("katz", None), {}, "a heuristic, one of"),
        ((torch.nn.Linear(16, 4), None), {}, "scorer=None goes with a heuristic teacher"),
        (("cn", None), {"method": "repr"}, "a heuristic teacher has none"),
    ]:
        with pytest.raises(G2MError, match=match):
            g2m.distill_link(data, *args, **{"epochs": 1, **kwargs})


def test_spec_file_and_user_spec_folder(tiny, tmp_path, monkeypatch):
    from g2m.data.registry import load_dataset
    from g2m.data.specs import get_spec

    data, _ = tiny
    torch.save(data, tmp_path / "g.pt")
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "mine.toml").write_text(
        'name = "mine"\ndescription = "my graph"\nloader = "file"\nloader_args = {path = "g.pt"}\n'
        'task = "node"\nmetric = "accuracy"\nsplit = "public"\n\n[hparams.student]\nhidden = 24\n'
    )
    spec = get_spec(str(folder / "mine.toml"))  # a spec file from anywhere
    assert spec.name == "mine" and spec.preset("student") == {"hidden": 24}
    graph = load_dataset(str(folder / "mine.toml"), tmp_path)  # its relative path: from the data root
    assert graph.num_nodes == 300 and graph.name == "mine"
    monkeypatch.setenv("G2M_SPECS", str(folder))
    res = CliRunner().invoke(app, ["datasets", "--data-root", str(tmp_path)], catch_exceptions=False)
    assert res.exit_code == 0 and "mine" in res.output
    res = CliRunner().invoke(
        app,
        [
            "teacher",
            "-d",
            "mine",
            "--data-root",
            str(tmp_path),
            "--cache-dir",
            str(tmp_path / "c"),
            "--epochs",
            "5",
            "-q",
        ],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    (folder / "cora.toml").write_text((folder / "mine.toml").read_text().replace('"mine"', '"cora"'))
    monkeypatch.setenv("G2M_SPECS", str(folder) + "-other")
    with pytest.raises(G2MError, match="not a folder"):
        get_spec("mine")
    monkeypatch.setenv("G2M_SPECS", str(folder))
    with pytest.raises(ValueError, match="as a dataset g2m ships"):
        get_spec("mine")
