"""`g2m merge`: runs that split an experiment's methods merge into the table one run gives."""

import json

import pytest
from typer.testing import CliRunner

from g2m.cli.main import app
from g2m.errors import G2MError
from g2m.experiments.merge import merge_results

runner = CliRunner()
SMALL = [
    "--task",
    "link",
    "-d",
    "csbm",
    "--seeds",
    "2",
    "--split-seed",
    "1",
    "--teacher-seed",
    "0",
    "--teacher-hidden",
    "16",
    "--student-hidden",
    "16",
    "--epochs",
    "6",
    "--patience",
    "6",
    "-q",
]


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    root = tmp_path_factory.mktemp("merge")
    out = {}
    for name, methods, seeds in (
        ("all", "mlp,repr,llp", ()),
        ("a", "llp,mlp", ()),
        ("b", "repr", ()),
        ("s0", "mlp,repr,llp", ("--seeds", "1")),
        ("s1", "mlp,repr,llp", ("--seeds", "1", "--first-seed", "1")),
    ):
        res = runner.invoke(
            app,
            [
                "run",
                *SMALL,
                *seeds,
                "--methods",
                methods,
                "--out",
                str(root / name),
                "--cache-dir",
                str(root / "cache"),
            ],
            catch_exceptions=False,
        )
        assert res.exit_code == 0, res.output
        out[name] = json.loads((root / name / "results.json").read_text())
    return root, out


def _scores(summary):
    return {row["model"]: {k: v for k, v in row.items() if k.endswith(("_mean", "_std"))} for row in summary}


def test_merged_parts_equal_one_run(parts):
    root, res = parts
    cli = runner.invoke(
        app,
        ["merge", str(root / "a"), str(root / "b" / "results.json"), "--out", str(root / "m")],
        catch_exceptions=False,
    )
    assert cli.exit_code == 0, cli.output
    merged = json.loads((root / "m" / "results.json").read_text())
    assert [r["model"] for r in merged["summary"]] == ["teacher (sage)", "mlp", "repr", "llp"]
    # equal up to float rounding: multi-threaded CPU kernels may round the last bits of a
    # score differently (memory alignment picks the SIMD path), which can flip one pair of
    # a ranking metric (seen once: ROC-AUC 2e-6 apart)
    one_run = _scores(res["all"]["summary"])
    for model, scores in _scores(merged["summary"]).items():
        assert scores == pytest.approx(one_run[model], abs=1e-5)
    assert merged["experiment"]["methods"] == ["mlp", "repr", "llp"]
    assert list(merged["student_configs"]) == ["mlp", "repr", "llp"]
    assert sum(r["model"].startswith("teacher") for r in merged["runs"]) == 1  # shared teacher kept once
    assert (root / "m" / "results.md").read_text() == merged["table"]
    assert merged["table"].splitlines()[0] == res["all"]["table"].splitlines()[0]


def test_seed_parts_equal_one_run(parts):
    _, res = parts
    assert "1 seeds (1-1)" in res["s1"]["title"]
    assert [r["seed"] for r in res["s1"]["runs"] if r["model"] == "mlp"] == [1]
    merged = merge_results([res["s1"], res["s0"]])
    assert merged["title"] == res["all"]["title"]  # "2 seeds" again
    assert (merged["experiment"]["seeds"], merged["experiment"]["first_seed"]) == (2, 0)
    assert [(r["model"], r["seed"]) for r in merged["runs"]] == [
        ("teacher (sage)", 0),
        ("mlp", 0),
        ("mlp", 1),
        ("repr", 0),
        ("repr", 1),
        ("llp", 0),
        ("llp", 1),
    ]
    one_run = _scores(res["all"]["summary"])
    for model, scores in _scores(merged["summary"]).items():
        assert scores == pytest.approx(one_run[model], abs=1e-5)


def test_seed_parts_must_fill_the_same_consecutive_seeds(parts):
    _, res = parts
    s1 = res["s1"]
    no_llp = {**s1, "runs": [r for r in s1["runs"] if r["model"] != "llp"]}
    with pytest.raises(ValueError, match=r"method 'llp' ran seeds \[0\] but 'mlp' ran \[0, 1\]"):
        merge_results([res["s0"], no_llp])
    s3 = {**s1, "runs": [{**r, "seed": 3} if not r["model"].startswith("teacher") else r for r in s1["runs"]]}
    with pytest.raises(ValueError, match=r"skip seeds \[1, 2\]"):
        merge_results([res["s0"], s3])
    heavier = {
        **s1,
        "student_configs": {**s1["student_configs"], "llp": {**s1["student_configs"]["llp"], "w_rank": 9.0}},
    }
    with pytest.raises(ValueError, match="result 1 trained 'llp' otherwise than today's presets .*w_rank differ"):
        merge_results([res["s0"], heavier])


def test_one_method_parts_merge(parts):
    _, res = parts
    a = res["a"]
    mlp_only = {
        **a,
        "experiment": {**a["experiment"], "methods": ["mlp"]},
        "student_configs": {"mlp": a["student_configs"]["mlp"]},
        "runs": [r for r in a["runs"] if r["model"] != "llp"],
    }
    merged = merge_results([mlp_only, res["b"]])  # each part alone "shares" its method and weights
    assert [r["model"] for r in merged["summary"]] == ["teacher (sage)", "mlp", "repr"]


def test_drop_leaves_a_method_out_of_one_part(parts, tmp_path):
    root, res = parts
    # a part whose llp rows conflict with the other's (changed options) merges once they are dropped
    changed = {
        **res["b"],
        "runs": res["b"]["runs"] + [r for r in res["a"]["runs"] if r["model"] == "llp"],
        "student_configs": {
            **res["b"]["student_configs"],
            "llp": {**res["a"]["student_configs"]["llp"], "margin": 9.0},
        },
    }
    with pytest.raises(ValueError):
        merge_results([res["a"], changed])
    merged = merge_results([res["a"], changed], drop={1: ["llp"]})
    assert merged["summary"] == merge_results([res["a"], res["b"]])["summary"]  # a's llp rows kept
    assert [r["model"] for r in merged["summary"]] == ["teacher (sage)", "mlp", "repr", "llp"]
    no_llp = merge_results([res["a"], res["b"]], drop={0: ["llp"]})
    assert [r["model"] for r in no_llp["summary"]] == ["teacher (sage)", "mlp", "repr"]
    assert "llp" not in no_llp["experiment"]["methods"] and "llp" not in no_llp["student_configs"]
    with pytest.raises(ValueError, match=r"cannot drop \['krd'\] from part 1"):
        merge_results([res["a"], res["b"]], drop={1: ["krd"]})
    a, b = str(root / "a"), str(root / "b")
    out = runner.invoke(
        app, ["merge", a, b, "--drop", f"{a}:llp", "--out", str(tmp_path / "m")], catch_exceptions=False
    )
    assert out.exit_code == 0 and "| llp |" not in (tmp_path / "m" / "results.md").read_text()
    for bad, match in ((f"{a}", "expected PART:METHOD"), ("runs/x:llp", "is not one of the results")):
        with pytest.raises(G2MError, match=match):
            runner.invoke(app, ["merge", a, b, "--drop", bad, "--out", str(tmp_path / "n")], catch_exceptions=False)


def test_merge_refuses_what_is_not_one_experiment(parts, tmp_path):
    _, res = parts
    with pytest.raises(ValueError, match="at least two"):
        merge_results([res["a"]])
    with pytest.raises(ValueError, match="method 'mlp' seed 0 is in more than one result"):
        merge_results([res["a"], res["all"]])
    other = {**res["b"], "experiment": {**res["b"]["experiment"], "setting": "production"}}
    with pytest.raises(ValueError, match="different experiment from result 0: setting differ"):
        merge_results([res["a"], other])
    slow = {**res["b"], "student_configs": {m: {**c, "lr": 1e-4} for m, c in res["b"]["student_configs"].items()}}
    with pytest.raises(ValueError, match="result 1 trained 'repr' otherwise than today's presets .*lr differ"):
        merge_results([res["a"], slow])
    b_exp = res["b"]["experiment"]
    faster = {
        **res["b"],
        "experiment": {**b_exp, "student_overrides": {**b_exp["student_overrides"], "lr": 0.1}},
        "student_configs": {m: {**c, "lr": 0.1} for m, c in res["b"]["student_configs"].items()},
    }
    with pytest.raises(
        ValueError, match=r"result 1 trained its students differently from result 0: lr differ \('llp'\)"
    ):
        merge_results([res["a"], faster])
    with pytest.raises(ValueError, match=r"result 1 ran on \d+ torch threads and result 0 on 99"):
        merge_results([{**res["a"], "torch_threads": 99}, res["b"]])
    default_lr = res["b"]["student_configs"]["repr"]["lr"]
    same = {**res["b"], "experiment": {**b_exp, "student_overrides": {**b_exp["student_overrides"], "lr": default_lr}}}
    assert merge_results([res["a"], same])["summary"]  # overrides compare by their effect
    elsewhere = {**b_exp, "cache_dir": str(tmp_path / "other-cache"), "data_root": str(tmp_path), "use_cache": False}
    assert merge_results([res["a"], {**res["b"], "experiment": elsewhere}])["summary"]  # where, not what
    runs = [dict(r) for r in res["b"]["runs"]]
    runs[0]["hits@20"] = runs[0]["hits@20"] + 0.5
    with pytest.raises(ValueError, match="did not share one teacher"):
        merge_results([res["a"], {**res["b"], "runs": runs}])
    missing = runner.invoke(app, ["merge", str(tmp_path / "nowhere"), str(tmp_path), "--out", str(tmp_path / "m")])
    assert isinstance(missing.exception, G2MError) and "no results.json" in str(missing.exception)
    assert not (tmp_path / "m").exists()  # nothing half-written


def test_node_parts_with_per_method_presets_merge(data_root, tmp_path, monkeypatch):
    """A preset that gives HFD its own lam and tau: one-method parts still make one experiment."""
    from g2m.data import get_spec

    monkeypatch.setitem(get_spec("cora").hparams["student"], "hfd", {"lam": 0.5, "tau": 1.0})
    small = [
        "run",
        "-d",
        "cora",
        "--seeds",
        "1",
        "--epochs",
        "2",
        "--patience",
        "2",
        "--student-hidden",
        "16",
        "--teacher-hidden",
        "16",
        "--data-root",
        data_root,
        "--cache-dir",
        str(tmp_path / "c"),
        "-q",
    ]
    parts = []
    for method in ("hfd", "glnn"):
        res = runner.invoke(app, [*small, "--methods", method, "--out", str(tmp_path / method)], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        parts.append(json.loads((tmp_path / method / "results.json").read_text()))
    hfd, glnn = (p["student_configs"][m] for p, m in zip(parts, ("hfd", "glnn")))
    assert (hfd["lam"], hfd["tau"]) != (glnn["lam"], glnn["tau"])
    merged = merge_results(parts)
    assert [r["model"] for r in merged["summary"]] == ["teacher (gcn)", "glnn", "hfd"]
    lam = {
        **parts[1],
        "experiment": {
            **parts[1]["experiment"],
            "student_overrides": {**parts[1]["experiment"]["student_overrides"], "lam": 0.5},
        },
        "student_configs": {"glnn": {**glnn, "lam": 0.5}},
    }
    with pytest.raises(ValueError, match=r"trained its students differently from result 0: lam differ \('glnn'\)"):
        merge_results([parts[0], lam])  # --lam 0.5 leaves HFD's preset as it is but moves glnn's


def test_parts_run_with_a_tuned_preset_merge(parts, tmp_path):
    """Parts run with `--preset` (a `g2m tune` preset.toml) are checked against the preset
    layered over the dataset's presets, not against the dataset's presets alone."""
    root, _ = parts
    preset = tmp_path / "preset.toml"
    preset.write_text("[hparams.link_student.mlp]\nlr = 0.003\nscorer_dropout = 0.25\n")
    for name, first in (("p0", "0"), ("p1", "1")):
        res = runner.invoke(
            app,
            [
                "run",
                *SMALL,
                "--seeds",
                "1",
                "--first-seed",
                first,
                "--methods",
                "mlp",
                "--preset",
                str(preset),
                "--out",
                str(tmp_path / name),
                "--cache-dir",
                str(root / "cache"),
            ],
            catch_exceptions=False,
        )
        assert res.exit_code == 0, res.output
    parts_ = [json.loads((tmp_path / n / "results.json").read_text()) for n in ("p0", "p1")]
    assert parts_[0]["student_configs"]["mlp"]["lr"] == 0.003
    merged = merge_results(parts_)
    assert sorted(r["seed"] for r in merged["runs"] if r["model"] == "mlp") == [0, 1]
    # the preset file changed after the runs: the merge refuses, naming what differs
    preset.write_text("[hparams.link_student.mlp]\nlr = 0.004\nscorer_dropout = 0.25\n")
    with pytest.raises(ValueError, match="otherwise than today's presets .*lr differ"):
        merge_results(parts_)


def test_a_part_written_before_an_option_existed_merges_at_its_default(parts):
    _, res = parts
    b = res["b"]
    older = {
        **b,
        "teacher_config": {k: v for k, v in b["teacher_config"].items() if k != "tie_break"},
        "student_configs": {m: {k: v for k, v in c.items() if k != "walker"} for m, c in b["student_configs"].items()},
    }
    assert merge_results([res["a"], older])["summary"]  # tie_break / walker: new options, at their defaults
    no_preset = {**b, "experiment": {k: v for k, v in b["experiment"].items() if k != "preset"}}
    assert merge_results([res["a"], no_preset])["summary"]  # written before `preset` was recorded
    later = {**b, "teacher_config": {**b["teacher_config"], "tie_break": "later"}}
    with pytest.raises(ValueError, match="different teacher configuration from result 0: tie_break differ"):
        merge_results([res["a"], later])
