"""The front door's contract (issue 41): every wrong split, mask, file, teacher output or option is
one G2MError naming the argument, never a silent result or a traceback of another type; the
Python API checks what the CLI checks. Each defect found on 26956b6 has a test here, and
Hypothesis draws splits and logits through g2m.distill."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

import g2m
from g2m.config import link_student_config
from g2m.data.csbm import csbm_tensors
from g2m.data.graph_file import read_graph_file
from g2m.data.link_splits import make_link_split
from g2m.data.splits import make_node_split
from g2m.errors import G2MError, InvalidGraphError, SplitError

N, C = 120, 3
QUICK = {"epochs": 1, "patience": 1, "hidden": 8}


@pytest.fixture(scope="module")
def graph():
    x, y, edges = csbm_tensors(num_nodes=N, num_classes=C, avg_degree=4, homophily=0.8, num_features=6, seed=1)
    data = Data(x=x, y=y, edge_index=to_undirected(edges))
    logits = torch.nn.functional.one_hot(y, C).float() * 3 + 0.1 * torch.randn(N, C, generator=torch.Generator())
    return data, logits


def masks(n=N, parts=((0, 30), (30, 60), (60, N))):
    out = []
    for a, b in parts:
        m = torch.zeros(n, dtype=torch.bool)
        m[a:b] = True
        out.append(m)
    return out


# ---- splits -------------------------------------------------------------------------------------


def test_boolean_masks_are_masks_not_indices(graph):
    # 26956b6 read the masks as index tensors: train = val = test = nodes {0, 1}, scores of 1.0
    data, logits = graph
    train, val, test = masks()
    out = g2m.distill(data, logits, method="glnn", split=(train, val, test), **QUICK)
    assert out.split.train.tolist() == list(range(30))
    assert out.split.val.tolist() == list(range(30, 60))
    assert out.split.test.tolist() == list(range(60, N))


@pytest.mark.parametrize(
    ("split", "match"),
    [
        ((torch.arange(0, 40), torch.arange(30, 60), torch.arange(60, N)), "train and val .* share 10 node"),
        ((torch.tensor([-1, 0, 1]), torch.arange(30, 60), torch.arange(60, 90)), "negative index"),
        ((torch.arange(30), torch.arange(30, 60), torch.arange(60, N + 1)), f"index {N}, beyond"),
        ((torch.tensor([0, 0, 1]), torch.arange(30, 60), torch.arange(60, 90)), "more than once"),
        ((torch.arange(30).float(), torch.arange(30, 60), torch.arange(60, 90)), "dtype torch.float32"),
        ((masks()[0][:50], masks()[1], masks()[2]), "one entry per node"),
        ((torch.arange(30), torch.tensor([], dtype=torch.long), torch.arange(60, 90)), "val .* is empty"),
        ((torch.arange(30), torch.arange(30, 60)), "three boolean masks or index tensors"),
    ],
)
def test_a_wrong_split_is_one_error_naming_it(graph, split, match):
    data, logits = graph
    with pytest.raises(SplitError if len(split) == 3 else G2MError, match=match):
        g2m.distill(data, logits, method="glnn", split=split, **QUICK)


def test_masks_of_a_data_object_are_checked_too(graph):
    data, logits = graph
    train, val, test = masks()
    val = val | train  # val holds the training nodes
    with pytest.raises(SplitError, match="train and val in own's masks share 30"):
        g2m.distill(
            Data(x=data.x, y=data.y, edge_index=data.edge_index, train_mask=train, val_mask=val, test_mask=test),
            logits,
            method="glnn",
            **QUICK,
        )


#: cases per property in the suite (derandomised); G2M_API_EXAMPLES=2000 G2M_HYPOTHESIS_RANDOM=1 for a long hunt
EXAMPLES = int(os.environ.get("G2M_API_EXAMPLES", "40"))


#: the settings of every property below
api_property = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="G2M_HYPOTHESIS_RANDOM" not in os.environ,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@api_property
@given(
    st.lists(
        st.one_of(
            st.lists(st.integers(-3, N + 3), max_size=12).map(lambda v: torch.tensor(v, dtype=torch.long)),
            st.lists(st.booleans(), min_size=N, max_size=N).map(torch.tensor),
        ),
        min_size=3,
        max_size=3,
    )
)
def test_any_split_works_or_is_one_split_error(graph, split):
    data, logits = graph
    try:
        out = g2m.distill(data, logits, method="glnn", split=tuple(split), **QUICK)
    except SplitError as err:
        assert " in split=(train, val, test)" in str(err)
        return
    sets = [set(s.nonzero().view(-1).tolist()) if s.dtype == torch.bool else set(s.tolist()) for s in split]
    got = [set(out.split.train.tolist()), set(out.split.val.tolist()), set(out.split.test.tolist())]
    assert got == sets  # exactly the sets given, never reinterpreted
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])


@api_property
@given(
    rows=st.sampled_from([N - 1, N, N + 1, C]),
    cols=st.sampled_from([C - 1, C, C + 1, N]),
    poison=st.sampled_from([None, float("nan"), float("inf")]),
    as_tuple=st.booleans(),
)
def test_any_teacher_output_works_or_is_one_error(graph, rows, cols, poison, as_tuple):
    data, _ = graph
    logits = torch.randn(rows, cols, generator=torch.Generator().manual_seed(rows * cols))
    if poison is not None:
        logits[0, 0] = poison
    teacher = (logits, logits) if as_tuple else logits
    try:
        out = g2m.distill(data, teacher, method="glnn", split=tuple(masks()), **QUICK)
    except G2MError as err:
        assert "teacher" in str(err)
        return
    # a clean [N, >= C] tensor: columns beyond the labels' classes are classes no node carries
    assert rows == N and cols >= C and poison is None and not as_tuple
    assert 0.0 <= out.scores["test"] <= 1.0


# ---- teacher outputs ------------------------------------------------------------------------------


class _TupleTeacher(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(6, C)

    def forward(self, x, edge_index):
        return self.lin(x), x


def test_teacher_outputs_are_checked(graph):
    data, logits = graph
    split = tuple(masks())
    with pytest.raises(G2MError, match="returned a tuple"):
        g2m.distill(data, _TupleTeacher(), method="glnn", split=split, **QUICK)
    bad = logits.clone()
    bad[7, 1] = float("nan")
    with pytest.raises(G2MError, match="NaN or infinity .*node 7"):
        g2m.distill(data, bad, method="glnn", split=split, **QUICK)
    with pytest.raises(G2MError, match="looks transposed, pass teacher logits.t"):
        g2m.distill(data, logits.t().contiguous(), method="glnn", split=split, **QUICK)
    with pytest.raises(G2MError, match="4 columns but the labels have 3 classes"):
        g2m.distill(data, _FeaturesOnly(torch.nn.Linear(6, 4)), method="glnn", split=split, **QUICK)
    with pytest.warns(UserWarning, match="look like probabilities"):
        g2m.distill(data, logits.softmax(1), method="glnn", split=split, **QUICK)


class _FeaturesOnly(torch.nn.Module):
    """A teacher module that ignores the graph."""

    def __init__(self, lin):
        super().__init__()
        self.lin = lin

    def forward(self, x, edge_index):
        return self.lin(x)


# ---- options --------------------------------------------------------------------------------------


def test_an_option_the_method_never_reads_is_refused_as_the_cli_does(graph):
    data, logits = graph
    split = tuple(masks())
    with pytest.raises(G2MError, match="tau=2.0 is HFD's temperature and changes nothing for method 'glnn'"):
        g2m.distill(data, logits, method="glnn", split=split, tau=2.0, **QUICK)
    with pytest.raises(G2MError, match="tempered_kd=true"):  # the fix in keyword words, not --set
        g2m.distill(data, logits, method="glnn", split=split, tau=2.0, **QUICK)
    g2m.distill(data, logits, method="hfd", split=split, tau=2.0, **QUICK)  # read there: accepted


def test_distill_link_refuses_a_setting_its_split_contradicts(graph):
    data, _ = graph
    encoder = _FeaturesOnly(torch.nn.Linear(6, 8))
    scorer = _DotScorer()
    split = make_link_split(g2m.graph_from_data(data), "transductive", 0)
    with pytest.raises(G2MError, match="setting='production' but the split given is a 'transductive' split"):
        g2m.distill_link(data, encoder, scorer, "mlp", split=split, setting="production", epochs=1)
    with pytest.raises(G2MError, match="called production"):
        g2m.distill_link(data, encoder, scorer, "mlp", setting="inductive", epochs=1)


class _DotScorer(torch.nn.Module):
    def forward(self, a, b):
        return (a * b).sum(-1)


# ---- distill_link: splits, teacher outputs and options drawn by Hypothesis ----------------------


@pytest.fixture(scope="module")
def link_graph(graph):
    data, _ = graph
    split = make_link_split(g2m.graph_from_data(data), "transductive", 0)
    return Data(x=data.x, edge_index=data.edge_index), split


def _pairs(values):
    return torch.tensor(values, dtype=torch.long).view(-1, 2).t().contiguous()


#: an edge set drawn freely: pairs of ids around the valid range, possibly empty, transposed or float
edge_sets = st.one_of(
    st.lists(st.integers(-2, N + 1), min_size=0, max_size=16).map(lambda v: _pairs(v[: len(v) // 2 * 2])),
    st.lists(st.integers(0, N - 1), min_size=2, max_size=16).map(lambda v: _pairs(v[: len(v) // 2 * 2]).t()),
    st.lists(st.integers(0, N - 1), min_size=2, max_size=16).map(lambda v: _pairs(v[: len(v) // 2 * 2]).float()),
)
EDGE_SETS = ("train_pos", "val_pos", "val_neg", "test_pos", "test_neg")


@api_property
@given(
    change=st.one_of(st.none(), st.tuples(st.sampled_from(EDGE_SETS), edge_sets)),
    leak=st.booleans(),
    num_nodes=st.sampled_from([N, N, N - 1]),
)
def test_any_link_split_works_or_is_one_split_error(link_graph, change, leak, num_nodes):
    from dataclasses import replace

    data, valid = link_graph
    split = replace(valid, num_nodes=num_nodes, **dict([change] if change else []))
    if leak and (change is None or change[0] != "train_pos"):  # three test positives among the training edges
        split = replace(split, train_pos=torch.cat([valid.train_pos, valid.test_pos[:, :3].flip(0)], 1))
    try:
        out = g2m.distill_link(data, _FeaturesOnly(torch.nn.Linear(6, 8)), _DotScorer(), "llp", split=split, epochs=1)
    except SplitError as err:
        event("refused")
        assert re.search(r"split\.(num_nodes|train_pos|val_pos|val_neg|test_pos|test_neg)\b", str(err)), str(err)
        return
    event("works")
    assert out.split is split  # used as given
    for part in EDGE_SETS:
        t = getattr(split, part)
        assert t.dtype == torch.long and t.dim() == 2 and t.size(0) == 2 and t.size(1) > 0
        assert int(t.min()) >= 0 and int(t.max()) < N
    train = {tuple(p) for p in split.train_pos.t().tolist()} | {tuple(p) for p in split.train_pos.flip(0).t().tolist()}
    assert not ({tuple(p) for p in split.test_pos.t().tolist()} & train)
    assert not ({tuple(p) for p in split.val_pos.t().tolist()} & train)
    assert num_nodes == N and 0.0 <= out.scores["val"] <= 1.0


class _Encoder(torch.nn.Module):
    def __init__(self, rows, dim, poison, as_tuple):
        super().__init__()
        self.lin, self.rows, self.dim, self.poison, self.as_tuple = torch.nn.Linear(6, 8), rows, dim, poison, as_tuple

    def forward(self, x, edge_index):
        h = torch.cat([self.lin(x), x], 1)[: self.rows, : self.dim]
        if self.rows > x.size(0):
            h = torch.cat([h, h[: self.rows - x.size(0)]])
        if self.poison is not None:
            h = h.clone()
            h[1, 0] = self.poison
        return (h, x) if self.as_tuple else h


class _ShapedScorer(torch.nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, a, b):
        s = (a * b).sum(-1)
        return {"flat": s, "column": s[:, None], "wide": torch.stack([s, s], 1), "tuple": (s, s)}[self.shape]


@api_property
@given(
    rows=st.sampled_from([N - 1, N, N + 1]),
    dim=st.sampled_from([1, 8, 14]),
    poison=st.sampled_from([None, float("nan"), float("-inf")]),
    as_tuple=st.booleans(),
    shape=st.sampled_from(["flat", "column", "wide", "tuple"]),
)
def test_any_link_teacher_output_works_or_is_one_error(link_graph, rows, dim, poison, as_tuple, shape):
    data, split = link_graph
    try:
        out = g2m.distill_link(
            data, _Encoder(rows, dim, poison, as_tuple), _ShapedScorer(shape), "llp", split=split, epochs=1
        )
    except G2MError as err:
        event("refused")
        assert re.search(r"encoder|scorer", str(err)), str(err)
        assert not (rows == N and poison is None and not as_tuple and shape in ("flat", "column"))
        return
    event("works")
    assert rows == N and poison is None and not as_tuple and shape in ("flat", "column")
    assert 0.0 <= out.teacher_scores["val"] <= 1.0


#: link options, each with values inside and outside its range
link_options = st.dictionaries(
    st.sampled_from(["w_rank", "w_dist", "w_logit", "margin", "tau", "walks", "hops", "lr", "batch_size", "colour"]),
    st.sampled_from([-1, 0, 0.5, 2, None, "x"]),
    max_size=3,
)


@api_property
@given(method=st.sampled_from(["mlp", "logit", "llp_rank", "llp"]), options=link_options)
def test_any_link_options_work_or_are_one_error_naming_one(link_graph, method, options):
    data, split = link_graph
    try:
        out = g2m.distill_link(
            data, _FeaturesOnly(torch.nn.Linear(6, 8)), _DotScorer(), method, split=split, epochs=1, **options
        )
    except G2MError as err:
        event("refused")
        assert any(name in str(err) for name in options), (options, str(err))
        return
    event("works")
    default = link_student_config(None, method)
    for name, value in options.items():  # taken as given (None: the method's default), never dropped
        assert getattr(out.config, name) == (getattr(default, name) if value is None else value)
    assert 0.0 <= out.scores["val"] <= 1.0


# ---- graph files ------------------------------------------------------------------------------------


def _npz(path, **over):
    x, y, edges = csbm_tensors(num_nodes=50, num_classes=2, avg_degree=3, homophily=0.8, num_features=4, seed=0)
    train, val, test = masks(50, ((0, 10), (10, 20), (20, 50)))
    arrays = dict(
        node_features=x.numpy(),
        node_labels=y.numpy(),
        edges=edges.t().numpy(),
        train_mask=train.numpy(),
        val_mask=val.numpy(),
        test_mask=test.numpy(),
    )
    arrays.update(over)
    np.savez(path, **arrays)
    return path


def test_graph_files_are_checked_field_by_field(tmp_path):
    ok = read_graph_file(_npz(tmp_path / "ok.npz"), "ok")
    assert ok.num_nodes == 50
    good = np.load(tmp_path / "ok.npz")
    with pytest.raises(InvalidGraphError, match=r"edges holds \d+\.5, not node ids"):
        read_graph_file(_npz(tmp_path / "frac.npz", edges=good["edges"] + 0.5), "f")
    with pytest.raises(InvalidGraphError, match="node_labels has dtype <U"):
        read_graph_file(_npz(tmp_path / "str.npz", node_labels=good["node_labels"].astype(str)), "s")
    with pytest.raises(InvalidGraphError, match="edges name node 50"):
        read_graph_file(_npz(tmp_path / "range.npz", edges=good["edges"] + 1), "r")
    val = good["val_mask"] | good["train_mask"]
    g = read_graph_file(_npz(tmp_path / "overlap.npz", val_mask=val), "overlap")
    with pytest.raises(SplitError, match="train and val in overlap's masks share 10"):
        make_node_split(g, "public")
    np.savez(tmp_path / "pyg.npz", x=good["node_features"], y=good["node_labels"], edge_index=good["edges"].T)
    with pytest.raises(InvalidGraphError, match=r"missing node_features.*PyG's names; save the Data itself"):
        read_graph_file(tmp_path / "pyg.npz", "p")
    whole = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "junk.npz").write_bytes(b"\x00garbage bytes, no archive" * 10)
    for name in ("cut.npz", "junk.npz"):
        with pytest.raises(InvalidGraphError) as err:
            read_graph_file(tmp_path / name, "x")
        assert "allow_pickle" not in str(err.value) and "numpy.savez" in str(err.value) or "damaged" in str(err.value)


# ---- the CLI's words for the same mistakes -----------------------------------------------------------


def test_cli_names_its_own_flags_for_a_logits_file(tmp_path):
    from typer.testing import CliRunner

    from g2m.cli.main import app

    logits = tmp_path / "logits.pt"
    torch.save(torch.randn(10, 3), logits)
    runner = CliRunner()
    for method, words in (("krd", "entropy shift .* logits file cannot give"), ("nosmog", "--teacher-hidden FILE")):
        done = runner.invoke(
            app,
            [
                "distill",
                "-d",
                "csbm",
                "--method",
                method,
                "--teacher-logits",
                str(logits),
                "--out",
                str(tmp_path / method),
                "-q",
            ],
        )
        message = str(done.exception)
        assert isinstance(done.exception, G2MError), done.output  # main() prints it as one error line, exit 2
        assert re.search(words, message), message
        assert "--refresh" not in message and "teacher_hidden" not in message


def test_an_interrupted_refresh_run_does_not_promise_a_resume(tmp_path, capsys):
    import typer

    from g2m.cli.common import interrupt_note

    (tmp_path / "progress.jsonl").write_text('{"row": 1}\n')  # an older run's progress, not this one's
    for refresh, words in ((True, "keeps no finished student to resume from"), (False, "run the same command again")):
        with pytest.raises(typer.Exit) as stop, interrupt_note(tmp_path / "progress.jsonl", tmp_path / "ck", refresh):
            raise KeyboardInterrupt
        assert stop.value.exit_code == 130
        assert words in capsys.readouterr().err


def test_eval_of_a_student_saved_from_ones_own_graph_asks_for_the_graph(graph, tmp_path):
    from typer.testing import CliRunner

    from g2m.cli.main import app

    data, logits = graph
    out = g2m.distill(data, logits, method="glnn", split=tuple(masks()), **QUICK)
    out.save(tmp_path / "student")
    done = CliRunner().invoke(app, ["eval", "--student", str(tmp_path / "student")])
    assert isinstance(done.exception, G2MError), done.output
    assert "--graph FILE" in str(done.exception) and "unknown dataset" not in str(done.exception)


def test_cli_refuses_a_link_option_the_methods_never_read_as_the_api_does(tmp_path):
    from typer.testing import CliRunner

    from g2m.cli.main import app

    runner = CliRunner()
    base = ["--task", "link", "-d", "csbm", "--margin", "0.3", "-q"]
    for command in (["distill", "--method", "mlp"], ["run", "--methods", "mlp,logit", "--out", str(tmp_path / "r")]):
        done = runner.invoke(app, [*command, *base])
        assert isinstance(done.exception, G2MError), done.output
        assert re.search(r"margin shapes LLP's rank term and changes nothing for mlp", str(done.exception))
    done = runner.invoke(app, ["distill", "--method", "mlp", "--task", "link", "-d", "csbm", "--w-rank", "1", "-q"])
    assert isinstance(done.exception, G2MError) and "method 'mlp' has none" in str(done.exception), done.output


def test_an_official_ogb_split_is_checked_for_shapes_not_for_repeated_pairs(link_graph):
    """OGB's own link splits repeat pairs across years (ogbl-collab): a split of setting 'ogb' is
    checked for shapes and ranges, not refused for a test pair that is also a training pair."""
    from dataclasses import replace

    from g2m.data.link_splits import check_link_split

    _, valid = link_graph
    repeated = replace(valid, setting="ogb", train_pos=torch.cat([valid.train_pos, valid.test_pos[:, :3]], 1))
    assert check_link_split(repeated, N) is repeated
    with pytest.raises(SplitError, match="leak|shares"):
        check_link_split(replace(repeated, setting="transductive"), N)
    with pytest.raises(SplitError, match=r"split\.test_pos holds node id"):
        check_link_split(replace(repeated, test_pos=valid.test_pos + N), N)


def test_a_split_that_is_no_link_split_is_named_even_with_a_setting(link_graph):
    data, split = link_graph
    with pytest.raises(SplitError, match="split must be a LinkSplit"):
        encoder = _FeaturesOnly(torch.nn.Linear(6, 8))
        g2m.distill_link(data, encoder, _DotScorer(), "mlp", split=(split.train_pos,), setting="production")
