"""Devices: every objective, teacher, the guard and the mini-batch paths on each available device
(CPU always, CUDA when torch sees one) equal to the CPU run; and the rule that catches a tensor
created on the wrong device on a CPU-only machine (tests/device_rules.py)."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from device_rules import violations

import g2m
from g2m.config import LinkStudentConfig, LinkTeacherConfig, StudentConfig, TeacherConfig, student_config
from g2m.data.csbm import csbm_tensors
from g2m.data.graph import make_graph
from g2m.data.link_splits import make_link_split
from g2m.data.splits import make_node_split
from g2m.device import device_record, resolve_device, set_threads
from g2m.errors import G2MError
from g2m.losses.link_objectives import LINK_METHODS
from g2m.training.link import distill_link_student, train_link_teacher
from g2m.training.node_student import distill_node_student
from g2m.training.node_teacher import train_node_teacher

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no CUDA GPU")),
]
ATOL = 1e-5


@pytest.fixture(scope="module")
def small():
    x, y, edges = csbm_tensors(num_nodes=150, num_classes=3, avg_degree=4, homophily=0.7, num_features=16, seed=1)
    graph = make_graph("tiny", x, y, edges)
    return graph, make_node_split(graph, "random", "transductive", 0, train_per_class=5, val_per_class=5)


@pytest.fixture(scope="module")
def teacher_out(small):
    graph, split = small
    return train_node_teacher(
        graph, split, TeacherConfig(model="gcn", hidden=16, epochs=5, dropout=0.0), 0, progress=False, device="cpu"
    )


# ---------- the wrong-device rule ----------


def test_every_factory_in_the_library_names_its_device():
    found = violations(Path(g2m.__file__).parent)
    assert found == [], "tensor factories without device= (derive it from an input, or say 'cpu'):\n" + "\n".join(found)


def test_the_rule_catches_a_planted_factory(tmp_path):
    (tmp_path / "bad.py").write_text(
        textwrap.dedent("""
        import torch
        def f(x):
            ok = torch.zeros(3, device=x.device)
            gen = torch.Generator(device="cpu")
            mask = torch.ones(x.size(0), dtype=torch.bool)   # lands on the CPU whatever x is
            return torch.randperm(5, generator=gen)
    """)
    )
    found = violations(tmp_path)
    assert [line.split(": ", 1)[1] for line in found] == [
        "torch.ones(...) names no device",
        "torch.randperm(...) names no device",
    ]
    assert "bad.py:6:" in found[0] and "bad.py:7:" in found[1]


# ---------- device choice ----------


def test_resolve_device_names_the_problem():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(G2MError, match="unknown device 'tpu'"):
        resolve_device("tpu")
    with pytest.raises(G2MError, match="GPU index must be a number"):
        resolve_device("cuda:x")
    if not torch.cuda.is_available():
        with pytest.raises(G2MError, match="sees no CUDA GPU"):
            resolve_device("cuda")


def test_threads_and_record():
    before = torch.get_num_threads()
    try:
        assert set_threads(1) == 1
        assert device_record("cpu") == {"device": "cpu", "torch_threads": 1}
        with pytest.raises(G2MError, match="at least 1"):
            set_threads(0)
    finally:
        torch.set_num_threads(before)


# ---------- every node objective, teacher and path on every device ----------

NODE_METHODS = ["mlp", "glnn", "lfd", "hfd", "ffg2m", "ffg2m_safe", "nosmog", "krd", "glnn+guard"]


def _student(graph, split, teacher_out, method: str, device: str, **extra):
    cfg = replace(
        student_config(None, method, "gcn"),
        hidden=16,
        epochs=4,
        patience=4,
        dropout=0.0,
        position_dim=8,
        position_walk_length=6,
        position_window=2,
        krd_start=1,
        **extra,
    )
    return distill_node_student(
        graph,
        split,
        teacher_out.knowledge(),
        cfg,
        0,
        progress=False,
        device=device,
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", NODE_METHODS)
def test_node_student_on_device_equals_cpu(small, teacher_out, method, device):
    graph, split = small
    out = _student(graph, split, teacher_out, method, device)
    assert out.logits.device.type == "cpu" and next(out.model.parameters()).device.type == torch.device(device).type
    ref = _student(graph, split, teacher_out, method, "cpu")
    torch.testing.assert_close(out.logits, ref.logits, atol=ATOL, rtol=0)
    assert out.guard == ref.guard


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", ["glnn", "ffg2m", "ffg2m_safe"])
def test_minibatch_student_on_device_equals_cpu(small, teacher_out, method, device):
    graph, split = small
    out = _student(graph, split, teacher_out, method, device, batch_size=32)
    ref = _student(graph, split, teacher_out, method, "cpu", batch_size=32)
    torch.testing.assert_close(out.logits, ref.logits, atol=ATOL, rtol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("model", ["gcn", "sage", "gat", "appnp"])
@pytest.mark.parametrize("batch_size", [None, 32])
def test_teacher_on_device_equals_cpu(small, model, batch_size, device):
    graph, split = small
    cfg = TeacherConfig(
        model=model, hidden=8, heads=2, epochs=3, dropout=0.0, batch_size=batch_size, fanouts=(3, 3), sampler="g2m"
    )
    out = train_node_teacher(graph, split, cfg, 0, progress=False, device=device)
    ref = train_node_teacher(graph, split, cfg, 0, progress=False, device="cpu")
    assert out.logits.device.type == "cpu"  # what the cache stores
    torch.testing.assert_close(out.logits, ref.logits, atol=ATOL, rtol=0)
    torch.testing.assert_close(out.hidden, ref.hidden, atol=ATOL, rtol=0)


@pytest.mark.parametrize("device", DEVICES)
def test_inductive_student_and_teacher_on_device(small, device):
    graph, _ = small
    split = make_node_split(graph, "random", "inductive", 0, train_per_class=5, val_per_class=5)
    cfg = TeacherConfig(model="sage", hidden=8, epochs=3, dropout=0.0)
    t = train_node_teacher(graph, split, cfg, 0, progress=False, device=device)
    assert "test_ind" in t.scores
    out = _student(graph, split, t, "ffg2m", device)
    ref = _student(graph, split, t, "ffg2m", "cpu")
    torch.testing.assert_close(out.logits, ref.logits, atol=ATOL, rtol=0)


@pytest.fixture(scope="module")
def link_setup(small):
    graph, _ = small
    split = make_link_split(graph, "transductive", 0)
    teacher = train_link_teacher(graph, split, LinkTeacherConfig(hidden=8, epochs=3, dropout=0.0), 0, False, "cpu")
    return graph, split, teacher


@pytest.mark.parametrize("device", DEVICES)
def test_link_teacher_on_device_equals_cpu(link_setup, device):
    graph, split, ref = link_setup
    out = train_link_teacher(graph, split, LinkTeacherConfig(hidden=8, epochs=3, dropout=0.0), 0, False, device)
    torch.testing.assert_close(out.embeddings, ref.embeddings, atol=ATOL, rtol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", LINK_METHODS)
def test_link_student_on_device_equals_cpu(link_setup, method, device):
    graph, split, teacher = link_setup
    cfg = LinkStudentConfig(method=method, hidden=8, epochs=3, dropout=0.0, walker="g2m", anchors_per_epoch=40)
    out = distill_link_student(graph, split, teacher.embeddings, teacher.scorer, cfg, 0, False, device=device)
    ref = distill_link_student(graph, split, teacher.embeddings, teacher.scorer, cfg, 0, False, device="cpu")
    assert out.embeddings.device.type == "cpu"
    torch.testing.assert_close(out.embeddings, ref.embeddings, atol=ATOL, rtol=0)


def test_student_config_is_what_the_device_tests_cover():
    """A new StudentConfig option that needs a device path gets a method above that uses it."""
    assert {
        "position",
        "similarity_weight",
        "adversarial_eps",
        "reliability",
        "edge_weighting",
        "guard",
        "batch_size",
    } <= {f for f in StudentConfig.__dataclass_fields__}


# ---------- every command that trains, evaluates or times takes --device ----------

#: commands that deliberately time the CPU only, with the reason (``lab``: ``python -m lab``'s)
CPU_ONLY = {
    ("bench", "serving"): "int8 serving is a CPU kernel (dynamic quantisation); fp32/bf16 rows compare against it",
    ("lab", "sampling"): "neighbour samplers run on the CPU by design; batches are copied to the device",
    ("lab", "rank-loss"): "a CPU micro-benchmark of two implementations of one loss",
    ("lab", "edge-memory"): "peak host RSS of one loss",
    ("lab", "position-probe"): "DeepWalk's tables are learnt on the CPU (gensim, or sparse updates) in every setting",
    ("lab", "model-hashes"): "a fingerprint of the CPU's numerics, to diff two runs on one machine",
}
COMPUTING = [
    ("teacher",),
    ("distill",),
    ("eval",),
    ("run",),
    ("tune",),
    ("lab", "node-table"),
    ("lab", "link-table"),
    ("bench", "pipeline"),
    ("lab", "epoch"),
    ("bench", "latency"),
    ("lab", "scale"),
    ("lab", "student-epoch"),
    ("lab", "link-epoch"),
    ("lab", "loss-call"),
    ("lab", "link-e2e"),
    ("ensemble",),
]


#: the lab's commands that compute nothing (they render files)
LAB_RENDERERS = {("lab", "report"), ("lab", "markers")}


def _command(path):
    import typer

    from g2m.cli.main import app
    from lab.cli import app as lab_app

    command = typer.main.get_command(lab_app if path[0] == "lab" else app)
    for name in path[1:] if path[0] == "lab" else path:
        command = command.commands[name]
    return command


@pytest.mark.parametrize("path", COMPUTING, ids="-".join)
def test_every_computing_command_takes_device(path):
    options = {opt for param in _command(path).params for opt in param.opts}
    assert "--device" in options
    if path not in {("lab", "epoch"), ("bench", "latency"), ("lab", "scale")}:  # these have their own --threads
        assert "--threads" in options


def test_bench_commands_are_listed():
    import typer

    from lab.cli import app as lab_app

    listed = {("bench", name) for name in _command(("bench",)).commands}
    listed |= {("lab", name) for name in typer.main.get_command(lab_app).commands}
    assert listed == {p for p in COMPUTING if p[0] in ("bench", "lab")} | set(CPU_ONLY) | LAB_RENDERERS


@pytest.mark.parametrize(
    "args",
    [
        ["run", "-d", "csbm"],
        ["teacher"],
        ["distill"],
        ["eval", "-s", "x"],
        ["lab", "scale", "--sizes", "1000"],
        ["bench", "latency", "--nodes", "1000"],
    ],
)
def test_bad_device_is_refused_before_any_work(args, monkeypatch, capsys):
    import sys

    from g2m.cli.main import main
    from lab.cli import main as lab_main

    monkeypatch.setattr(
        sys, "argv", [*(["lab"] if args[0] == "lab" else ["g2m"]), *args[args[0] == "lab" :], "--device", "tpu"]
    )
    with pytest.raises(SystemExit) as stop:
        (lab_main if args[0] == "lab" else main)()
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip() == "error: unknown device 'tpu'; choose one of auto, cpu, cuda or cuda:N"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_a_gpu_is_refused_before_the_first_size(monkeypatch, capsys):
    import sys

    from lab.cli import main

    monkeypatch.setattr(sys, "argv", ["lab", "scale", "--sizes", "1000,2000", "--device", "cuda"])
    with pytest.raises(SystemExit) as stop:
        main()
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and err.startswith("error: device 'cuda' asked for, but torch sees no CUDA GPU")


def test_keep_freed_memory_applies_on_glibc_and_refuses_a_bad_threshold():
    import platform

    from g2m.device import keep_freed_memory

    applied = keep_freed_memory()
    assert applied is (platform.libc_ver()[0] == "glibc")
    with pytest.raises(G2MError, match="positive"):
        keep_freed_memory(0)
