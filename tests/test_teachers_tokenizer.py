"""g2m.teachers.tokenizer: VQGraph's cosine codebook (assignment, moving-average update) and GCN
tokenizer teacher, trained and cached; the vqgraph student learning its codes."""

import pytest
import torch
import torch.nn.functional as F

from g2m.config import StudentConfig, TeacherConfig
from g2m.data import load_dataset, make_node_split
from g2m.losses.tokens import TeacherTokens
from g2m.teachers.knowledge import TeacherKnowledge
from g2m.teachers.tokenizer import CosineCodebook, VQGraphTokenizer
from g2m.training.node_student import distill_node_student
from g2m.training.node_teacher import train_node_teacher

GRAPH = dict(num_nodes=400, num_classes=4, avg_degree=8, homophily=0.9, feature_signal=1.0, num_features=16)
TEACHER = dict(model="vqgcn", hidden=16, dropout=0.1, lr=0.01, epochs=40, patience=40, codebook_size=32)


def test_codebook_assigns_by_cosine_and_moves_used_codes_towards_their_nodes():
    book = CosineCodebook(dim=2, size=3, decay=0.5)
    book.embed.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
    h = torch.tensor([[3.0, 1.0], [1.0, 3.0], [5.0, -1.0]])
    assert book.assign(h).tolist() == [0, 1, 0]
    book.eval()
    torch.testing.assert_close(book(h), book.embed[[0, 1, 0]])  # evaluation: the codes themselves, no update
    before = book.embed.clone()
    book.train()
    book(h)
    mean0 = F.normalize(F.normalize(h[[0, 2]], dim=-1).mean(0), dim=0)
    torch.testing.assert_close(book.embed[0], 0.5 * before[0] + 0.5 * mean0)
    torch.testing.assert_close(book.embed[1], 0.5 * before[1] + 0.5 * F.normalize(h[1], dim=0))
    torch.testing.assert_close(book.embed[2], before[2])  # unused: stays (already unit)
    with pytest.raises(ValueError, match="decay"):
        CosineCodebook(2, 3, decay=1.0)


def test_quantiser_passes_gradients_straight_through_in_training():
    torch.manual_seed(0)
    model = VQGraphTokenizer(6, 3, hidden=4, dropout=0.0, codebook_size=5)
    x = torch.randn(8, 6)
    edges = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 7], [1, 0, 3, 2, 5, 4, 7, 6]])
    logits, loss = model.loss_forward(x, edges)
    (logits.sum() + loss).backward()
    assert model.conv1.lin.weight.grad is not None and model.conv1.lin.weight.grad.abs().sum() > 0
    assert logits.shape == (8, 3) and torch.isfinite(loss)
    model.eval()
    h = model.code_input(x, edges)
    assert h.shape == (8, 6)


def test_vqgcn_teacher_learns_and_its_codes_survive_the_cache(tmp_path):
    g = load_dataset("csbm", **GRAPH)
    split = make_node_split(g, "random", seed=0)
    out = train_node_teacher(g, split, TeacherConfig(**TEACHER), seed=0, progress=False)
    assert out.scores["test"] > 0.25 + 0.3
    assert out.tokens is not None
    assert out.tokens.code_input.shape == (g.num_nodes, 16) and out.tokens.codebook.shape == (32, 16)
    tensors = {"logits": out.logits, "hidden": out.hidden, "code_input": out.tokens.code_input}
    tensors["codebook"] = out.tokens.codebook
    knowledge = TeacherKnowledge.from_tensors(tensors)
    assert knowledge.tokens is not None
    torch.testing.assert_close(knowledge.tokens.similarities(), out.tokens.similarities())


def test_vqgcn_settings_are_checked():
    with pytest.raises(ValueError, match="two-layer GCN tokenizer"):
        TeacherConfig(model="vqgcn", num_layers=3)
    with pytest.raises(ValueError, match="two-layer GCN tokenizer"):
        TeacherConfig(model="vqgcn", batch_size=64)
    with pytest.raises(ValueError, match="share F"):
        TeacherTokens(torch.zeros(3, 4), torch.zeros(2, 5))


@pytest.fixture(scope="module")
def taught():
    g = load_dataset("csbm", **GRAPH)
    split = make_node_split(g, "random", seed=0)
    return g, split, train_node_teacher(g, split, TeacherConfig(**TEACHER), seed=0, progress=False)


@pytest.mark.parametrize("loop", [{}, {"batch_size": 64, "drop_last": True, "label_pass": True, "token_pass": True}])
def test_vqgraph_student_learns_the_codes(taught, loop):
    g, split, teacher = taught
    cfg = StudentConfig(method="vqgraph", hidden=16, epochs=30, patience=30, token_weight=1.0, **loop)
    out = distill_node_student(
        g, split, TeacherKnowledge(teacher.logits, tokens=teacher.tokens), cfg, seed=0, progress=False
    )
    assert out.scores["test"] > 0.25 + 0.3
    if not loop:  # full batch: the token term is one of the step's logged parts
        assert out.fit.history[-1]["token"] > 0


def test_the_token_term_changes_the_student_and_needs_the_codes(taught):
    g, split, teacher = taught
    base = dict(hidden=16, epochs=5, patience=5, batch_size=64, drop_last=True, label_pass=True)
    glnn = distill_node_student(g, split, teacher.logits, StudentConfig(method="glnn", **base), progress=False)
    vq = distill_node_student(
        g,
        split,
        TeacherKnowledge(teacher.logits, tokens=teacher.tokens),
        StudentConfig(method="vqgraph", token_weight=1.0, token_pass=True, **base),
        progress=False,
    )
    assert not torch.equal(glnn.logits, vq.logits)
    with pytest.raises(ValueError, match="-t vqgcn"):
        vqgraph = StudentConfig(method="vqgraph", token_weight=1e-8)
        distill_node_student(g, split, teacher.logits, vqgraph, progress=False)
    with pytest.raises(ValueError, match="token_pass shape mini-batch"):
        StudentConfig(method="vqgraph", token_pass=True)
    with pytest.raises(ValueError, match="has no teacher"):
        StudentConfig(method="mlp", token_weight=1.0)


def test_the_cli_refuses_codes_without_a_tokenizer_and_shows_the_recipe(tmp_path):
    from typer.testing import CliRunner

    from g2m.cli.main import app

    runner = CliRunner()
    done = runner.invoke(app, ["run", "-d", "csbm", "-t", "gcn", "--methods", "vqgraph", "--out", str(tmp_path)])
    assert done.exit_code != 0 and "a gcn teacher has none of: use -t vqgcn" in f"{done.output}{done.exception}"
    assert not (tmp_path / "results.json").exists()
    done = runner.invoke(app, ["run", "--task", "link", "-d", "cora", "-t", "vqgcn", "--out", str(tmp_path)])
    assert done.exit_code != 0 and "unknown link teacher 'vqgcn'" in f"{done.output}{done.exception}"
    shown = runner.invoke(
        app, ["config", "show", "-d", "cora", "--recipe", "vqgraph", "-t", "vqgcn", "--method", "vqgraph"]
    )
    assert shown.exit_code == 0, shown.output
    rows = {
        line.split()[0]: line.split()[1]
        for line in shown.output.splitlines()
        if line.startswith(("student.", "teacher."))
    }
    assert rows["student.token_weight"] == "1e-08" and rows["student.token_pass"] == "True"
    assert rows["teacher.lr"] == "0.0001" and rows["teacher.codebook_size"] == "5000"
