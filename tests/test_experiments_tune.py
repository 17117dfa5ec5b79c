"""`g2m tune`: Optuna over the TOML's search space, resumable, writing a preset `g2m run` takes."""

import json

import pytest
import tomllib
from typer.testing import CliRunner

from g2m.cli.main import app
from g2m.data.specs import get_spec, with_preset
from g2m.errors import G2MError
from g2m.experiments.tune import Param, preset_toml, search_space

runner = CliRunner()
FAST = ["--epochs", "15", "--cache-dir"]


def test_search_space_parses_and_rejects_bad_entries():
    space = {p.name: p for p in search_space(get_spec("csbm"), "node", "glnn")}
    assert space["lr"].log and space["lr"].low == 0.001 and space["lam"].high == 1.0
    llp = {p.name: p for p in search_space(get_spec("cora"), "link", "llp")}
    assert llp["random_ratio"].choices == (1.0, 3.0, 5.0, 10.0)
    assert llp["rank_average"].choices == ("all-pairs", "informative-pairs")  # fidelity options, chosen on val
    with pytest.raises(G2MError, match=r"no search space for node method 'hfd': add a .* datasets/csbm.toml"):
        search_space(get_spec("csbm"), "node", "hfd")
    with pytest.raises(G2MError, match="low < high"):
        Param.from_toml("lr", {"low": 0.1, "high": 0.01})
    with pytest.raises(G2MError, match="log range needs low > 0"):
        Param.from_toml("lr", {"low": 0.0, "high": 0.01, "log": True})
    with pytest.raises(G2MError, match="unknown keys"):
        Param.from_toml("lr", {"low": 0.0, "high": 0.01, "step": 2})


def test_a_missing_search_space_says_where_to_declare_it(tmp_path):
    """A graph file has no TOML of its own: the fix is a spec file pointing at it, not an edit of a
    shipped dataset file; a spec file is told to declare it itself."""
    import numpy as np

    graph = tmp_path / "g.npz"
    np.savez(graph, node_features=np.eye(4), node_labels=np.arange(4) % 2, edges=np.array([[0, 1], [2, 3]]))
    with pytest.raises(G2MError, match=r'spec file \(-d my.toml\) with loader = "file", loader_args = \{path = '):
        search_space(get_spec(str(graph)), "link", "mlp")
    spec_file = tmp_path / "mine.toml"
    spec_file.write_text(
        'name = "mine"\ndescription = "mine"\ntask = "node"\nmetric = "accuracy"\nsplit = "public"\n'
        f'loader = "file"\nloader_args = {{path = "{graph}"}}\n'
    )
    with pytest.raises(G2MError, match=r"add a \[tune.link_student.mlp\] table to the spec file$"):
        search_space(get_spec(str(spec_file)), "link", "mlp")


def test_preset_round_trips_into_the_spec():
    text = preset_toml("link", {"llp": {"lr": 0.003, "hops": 2, "margin": 0.1}}, "test")
    preset = tomllib.loads(text)
    spec = with_preset(get_spec("cora"), preset)
    assert spec.preset("link_student", "llp")["hops"] == 2
    assert spec.preset("link_student", "llp")["lr"] == 0.003
    # the dataset's own presets stay where the preset is silent
    base = get_spec("cora").preset("link_student")
    assert {k: v for k, v in spec.preset("link_student").items() if k != "llp"} == {
        k: v for k, v in base.items() if k != "llp"
    }
    assert spec.preset("link_student", "llp")["w_sup"] == base["llp"]["w_sup"]
    with pytest.raises(ValueError, match=r"\[hparams...\] tables only"):
        with_preset(spec, {"tune": {}})


@pytest.mark.slow
def test_tune_runs_resumes_and_its_preset_drives_run(tmp_path):
    out, cache = tmp_path / "tune", str(tmp_path / "cache")
    args = ["tune", "-d", "csbm", "--methods", "mlp,glnn", "--trials", "3", "--out", str(out), *FAST, cache, "-q"]
    res = runner.invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert res.output.count("trial ") == 6  # 3 per method, a line each
    data = json.loads((out / "tune.json").read_text())
    for method in ("mlp", "glnn"):
        trials = data["methods"][method]["trials"]
        assert len(trials) == 3 and all(t["state"] in ("COMPLETE", "PRUNED") for t in trials)
        best = max(t["value"] for t in trials if t["state"] == "COMPLETE")
        assert data["methods"][method]["best_value"] == best > 0.2  # above chance on 5 classes
        assert set(data["methods"][method]["best_params"]) == (
            {"lr", "dropout"} | ({"lam"} if method == "glnn" else set())
        )
    preset = tomllib.loads((out / "preset.toml").read_text())
    assert preset["hparams"]["student"]["glnn"] == data["methods"]["glnn"]["best_params"]

    # resuming with a larger budget runs only the missing trials
    res = runner.invoke(app, [*args[:4], "mlp", "--trials", "4", *args[7:]], catch_exceptions=False)
    assert "resuming, 3 of 4 trials done" in res.output and res.output.count("trial ") == 1

    run_out = tmp_path / "run"
    res = runner.invoke(
        app,
        [
            "run",
            "-d",
            "csbm",
            "--methods",
            "glnn",
            "--seeds",
            "1",
            "--out",
            str(run_out),
            "--preset",
            str(out / "preset.toml"),
            "--cache-dir",
            cache,
            "--epochs",
            "15",
            "-q",
        ],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    used = json.loads((run_out / "results.json").read_text())["student_configs"]["glnn"]
    for name, value in data["methods"]["glnn"]["best_params"].items():
        assert used[name] == pytest.approx(value)


def test_tune_refuses_a_method_without_a_space_before_training(tmp_path):
    res = runner.invoke(
        app,
        [
            "tune",
            "-d",
            "csbm",
            "--methods",
            "mlp,hfd",
            "--trials",
            "2",
            "--out",
            str(tmp_path / "t"),
            "--cache-dir",
            str(tmp_path / "c"),
            "-q",
        ],
    )
    assert isinstance(res.exception, G2MError) and "[tune.student.hfd]" in str(res.exception)
    assert not (tmp_path / "c").exists()


def test_resume_fails_interrupted_trials_and_a_second_process_is_refused(tmp_path):
    import optuna

    from g2m.errors import G2MError
    from g2m.experiments.tune import Param, run_study, study_lock

    db = tmp_path / "study.db"
    space = [Param("x", 0.0, 1.0)]
    # a process killed mid-trial leaves a RUNNING trial behind
    killed = optuna.create_study(study_name="s", storage=f"sqlite:///{db}", direction="maximize")
    killed.ask()
    seen = []

    def train(params, report):
        seen.append(params["x"])
        report(0, params["x"])
        return params["x"]

    lines = []
    result = run_study("s", space, train, 2, db, echo=lines.append)
    assert "1 trial(s) left running by an interrupted process marked failed" in lines[0]
    states = [t["state"] for t in result.trials]
    assert states == ["FAIL", "COMPLETE", "COMPLETE"] and len(seen) == 2  # the failed one is not counted
    assert result.best_value == max(seen)
    with study_lock(db):
        with pytest.raises(G2MError, match="is in use by pid [0-9]+ on "):
            run_study("s", space, train, 3, db, echo=None)
    assert len(seen) == 2  # refused before any training
    # a resumed study proposes new configurations, not the first process's again
    run_study("s", space, train, 4, db, echo=None)
    assert len(seen) == 4 and len(set(seen)) == 4


@pytest.mark.slow
def test_node_tune_on_a_named_split_records_it_and_refuses_another(tmp_path):
    out, cache = tmp_path / "tune", str(tmp_path / "cache")
    args = ["tune", "-d", "csbm", "--methods", "mlp", "--trials", "2", "--out", str(out), *FAST, cache, "-q"]
    res = runner.invoke(app, [*args, "--split", "glnn"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "--split glnn --preset" in res.output
    record = json.loads((out / "tune.json").read_text())
    assert record["split"] == "glnn"
    assert "glnn split" in (out / "preset.toml").read_text().splitlines()[0]
    # the teacher it tuned against was trained on the GLNN split (the cache key names it)
    assert any("glnn" in p.name for p in (tmp_path / "cache" / "csbm" / "node").iterdir())
    # the same study directory with another split is refused before any training
    res = runner.invoke(app, [*args, "--split", "random"])
    assert isinstance(res.exception, G2MError) and "another split, setting or recipe" in str(res.exception)
    res = runner.invoke(
        app,
        ["tune", "-d", "cora", "--task", "link", "--methods", "mlp", "--split", "glnn", "--out", str(tmp_path / "l")],
    )
    assert isinstance(res.exception, G2MError) and "node split protocol" in str(res.exception)


@pytest.mark.slow
def test_node_tune_inside_a_recipe_uses_its_teacher_and_loop(tmp_path, data_root):
    out, cache = tmp_path / "tune", str(tmp_path / "cache")
    common = ["tune", "-d", "cora", "--split", "glnn", "--methods", "glnn", "--trials", "1", "--epochs", "2"]
    args = [*common, "--out", str(out), "--cache-dir", cache, "--data-root", str(data_root), "-q"]
    res = runner.invoke(app, [*args, "--recipe", "glnn"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    record = json.loads((out / "tune.json").read_text())
    assert record["recipe"] == "glnn" and record["teacher"] == "sage"  # the recipe's own teacher
    assert "g2m run --recipe glnn" in (out / "preset.toml").read_text().splitlines()[0]
    assert "--recipe glnn --preset" in res.output  # the command it prints runs the student in that loop
    # the teacher the trials learnt from is GLNN's (2 x 128, neighbour-sampled), not cora.toml's 3 x 512
    meta = json.loads(next((tmp_path / "cache").rglob("meta.json")).read_text())
    assert meta["hparams"]["hidden"] == 128 and meta["hparams"]["batch_size"] == 512
    # the same study directory without the recipe is refused before any training
    res = runner.invoke(app, args)
    assert isinstance(res.exception, G2MError) and "another split, setting or recipe" in str(res.exception)


def test_tune_refuses_a_recipe_for_links_or_another_dataset(tmp_path):
    res = runner.invoke(app, ["tune", "-d", "cora", "--task", "link", "--methods", "llp", "--recipe", "glnn"])
    assert isinstance(res.exception, G2MError) and "--recipe applies to node tasks" in str(res.exception)
    res = runner.invoke(app, ["tune", "-d", "csbm", "--methods", "glnn", "--recipe", "nosmog", "--out", str(tmp_path)])
    assert isinstance(res.exception, G2MError) and "recipe 'nosmog' has settings for" in str(res.exception)
    # -t names the teacher, as in g2m run
    res = runner.invoke(app, ["tune", "-d", "cora", "-t", "vqgcn", "--recipe", "nosmog", "--methods", "glnn"])
    assert isinstance(res.exception, G2MError) and "not 'vqgcn'" in str(res.exception)
