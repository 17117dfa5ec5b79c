"""TINED's student: the teacher's steps as layers, its transforms injected."""

from __future__ import annotations

import pytest
import torch

from g2m.students.injected import InjectedMLP
from g2m.teachers.injection import sage_layers
from g2m.teachers.models import build_teacher


def teacher_and_layers():
    torch.manual_seed(0)
    x = torch.randn(9, 10)
    edges = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
    teacher = build_teacher("sage", 10, 3, hidden=6, num_layers=2, dropout=0.0, sage_aggr="gcn").eval()
    return teacher, sage_layers(teacher, x, edges)


def test_identity_propagation_gives_the_teachers_transforms_without_a_graph():
    teacher, layers = teacher_and_layers()
    student = InjectedMLP(layers, 10, propagation_init="identity").eval()
    x = torch.randn(5, 10)
    no_edges = torch.empty(2, 0, dtype=torch.long)  # each node's mean is itself: the GNN is its transforms
    with torch.no_grad():
        # the official student puts a ReLU after every layer but the last, the last transform's too
        assert torch.allclose(student(x), torch.relu(teacher(x, no_edges)), atol=1e-5)
    logits, hidden = student(x, return_hidden=True)
    assert hidden.shape == (5, 3) and student.hidden_size == 3  # the last transform's output, before its norm


def test_random_propagation_and_position_columns():
    _, layers = teacher_and_layers()
    torch.manual_seed(1)
    student = InjectedMLP(layers, 10 + 4, propagation_init="random")
    first = student.layers[0]
    assert first.in_features == 14 and torch.equal(first.weight[:, :10].detach(), layers.weights[0])
    assert not torch.equal(student.layers[1].weight.detach(), torch.eye(6))
    assert [p.shape for p in student.injected_parameters()] == [(6, 14), (6,), (3, 6), (3,)]
    pairs = student.stepwise(torch.randn(7, 14))
    assert [tuple(o.shape) for _, o in pairs] == [(7, 6), (7, 6), (7, 3), (7, 3)]


def test_bad_arguments_name_the_fix():
    _, layers = teacher_and_layers()
    with pytest.raises(ValueError, match="narrower than the teacher's"):
        InjectedMLP(layers, 8)
    with pytest.raises(ValueError, match="identity or random"):
        InjectedMLP(layers, 10, propagation_init="zeros")


def test_a_saved_tined_student_loads_back(tmp_path):
    from g2m.config import StudentConfig
    from g2m.students.io import load_student, save_student

    _, layers = teacher_and_layers()
    student = InjectedMLP(layers, 10, norm="layer").eval()
    config = StudentConfig(method="tined", teacher_injection=True, norm="layer")
    save_student(tmp_path, student, config, {})
    loaded, _, meta = load_student(tmp_path)
    x = torch.randn(4, 10)
    assert isinstance(loaded, InjectedMLP) and meta["teacher_shapes"] == [[6, 10], [3, 6]]
    assert torch.equal(loaded(x), student(x))
