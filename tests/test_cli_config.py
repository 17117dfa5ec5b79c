"""Every config field has a way in from the command line (its own flag or --set), `g2m config show`
names where each resolved value came from, and options of the other task are refused."""

import json
from dataclasses import MISSING, fields

import pytest
from typer.testing import CliRunner

from g2m.cli.main import app
from g2m.config import LinkStudentConfig, LinkTeacherConfig, StudentConfig, TeacherConfig

runner = CliRunner()

#: a valid value for each field whose default (None) TOML cannot write
NONE_DEFAULTS = {
    "batch_size": 64,
    "chunk_size": 1000,
    "input_dropout": 0.1,
    "hfd_edges_per_epoch": 100,
    "w_sup": 1.0,
    "w_rank": 1.0,
    "w_dist": 1.0,
    "w_logit": 1.0,
    "w_repr": 1.0,
    "grad_clip": 1.0,
}
#: fields chosen by their own options, not by --set
BY_THEIR_OWN_FLAG = {"method": "--method", "model": "--teacher"}


def _toml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return repr(value)


def _cases():
    for cls, task, prefix in (
        (TeacherConfig, "node", "teacher."),
        (StudentConfig, "node", ""),
        (LinkTeacherConfig, "link", "teacher."),
        (LinkStudentConfig, "link", ""),
    ):
        for f in fields(cls):
            if f.name not in BY_THEIR_OWN_FLAG:
                yield pytest.param(cls, task, prefix, f, id=f"{cls.__name__}.{f.name}")


@pytest.mark.parametrize("cls,task,prefix,f", list(_cases()))
def test_every_config_field_is_settable_from_the_command_line(cls, task, prefix, f):
    default = f.default if f.default is not MISSING else f.default_factory()
    value = NONE_DEFAULTS[f.name] if default is None else default
    method = ["--method", "ffg2m" if task == "node" else "llp", "-t", "sage"]
    done = runner.invoke(
        app, ["config", "show", "-d", "cora", "--task", task, *method, "--set", f"{prefix}{f.name}={_toml(value)}"]
    )
    assert done.exit_code == 0, done.output
    section = "teacher" if prefix else "student"
    row = next(line for line in done.output.splitlines() if line.startswith(f"{section}.{f.name} "))
    assert row.split()[-2:] == ["command", "line"] and repr(value) in row


def test_config_show_names_each_layer():
    done = runner.invoke(app, ["config", "show", "-d", "cora", "-t", "sage", "--method", "ffg2m", "--set", "tau=2.0"])
    rows = {line.split()[0]: line for line in done.output.splitlines()[1:]}
    assert rows["student.tau"].endswith("command line")
    assert rows["student.lam"].endswith("cora [hparams.student.sage]")
    assert rows["teacher.lr"].endswith("cora [hparams.teacher]")
    assert rows["student.method"].endswith("method ffg2m")
    assert rows["student.guard"].endswith("code default")


def test_config_show_names_a_preset_file(tmp_path):
    preset = tmp_path / "p.toml"
    preset.write_text("[hparams.student.sage]\nlam = 0.9\n")
    done = runner.invoke(app, ["config", "show", "-d", "cora", "-t", "sage", "--preset", str(preset)])
    row = next(line for line in done.output.splitlines() if line.startswith("student.lam "))
    assert "0.9" in row and row.endswith(f"preset file {preset} [hparams.student.sage]")


def test_config_show_names_a_recipe():
    done = runner.invoke(
        app, ["config", "show", "-d", "citeseer", "-t", "sage", "--method", "nosmog", "--recipe", "nosmog"]
    )
    assert done.exit_code == 0, done.output
    rows = {line.split()[0]: line for line in done.output.splitlines()[1:]}
    # NOSMOG's own teacher and student (meettyj/NOSMOG tran.conf.yaml), none of the dataset's presets
    assert "128" in rows["teacher.hidden"] and rows["teacher.hidden"].endswith(
        "recipe nosmog (citeseer) [hparams.teacher.sage]"
    )
    assert "0.1" in rows["student.dropout"] and rows["student.dropout"].endswith(
        "recipe nosmog (citeseer) [hparams.student]"
    )
    assert "0.045" in rows["student.adversarial_eps"]
    assert rows["student.tau"].endswith("code default")  # citeseer.toml's FF-G2M tau does not leak in
    for args, message in (
        (["-d", "cora", "-t", "vqgcn"], "recipe 'nosmog' defines a sage / gcn / gat / appnp teacher, not 'vqgcn'"),
        (
            ["-d", "coauthor-cs", "-t", "sage"],
            "recipe 'nosmog' has settings for amazon-computers, amazon-photo, citeseer, cora, pubmed, "
            "not 'coauthor-cs'",
        ),
    ):
        done = runner.invoke(app, ["config", "show", *args, "--recipe", "nosmog"])
        assert done.exit_code != 0 and message in str(done.exception), done.output
    done = runner.invoke(app, ["config", "show", "-d", "cora", "-t", "sage", "--recipe", "nosmo"])
    assert "unknown recipe 'nosmo'; choose one of ffg2m, glnn, krd, nosmog" in str(done.exception)


@pytest.mark.parametrize(
    "args,message",
    [
        (["run", "--task", "link", "--recipe", "nosmog"], "--recipe applies to node tasks"),
        (["distill", "--method", "glnn", "--w-sup", "5", "--rank-average", "bogus"], "--w-sup applies to --task link"),
        (["distill", "--method", "glnn", "--set", "margin=0.2"], "--margin applies to --task link"),
        (["distill", "--task", "link", "--method", "llp", "--lam", "0.5"], "--lam applies to --task node"),
        (["run", "--task", "link", "--set", 'position="deepwalk"'], "--position applies to --task node"),
        (["run", "--margin", "0.3"], "--margin applies to --task link"),
        (["distill", "--method", "glnn", "--tau", "2"], "tau is HFD's temperature and changes nothing for glnn"),
        (["run", "--methods", "mlp,glnn", "--tau", "2"], "tau is HFD's temperature"),
        (
            ["distill", "--method", "glnn", "--set", "position_dim=8"],
            "position_dim sets the DeepWalk position features",
        ),
        (["run", "--methods", "ffg2m", "--set", "krd_power=2"], "krd_power sets KRD's reliable-edge sampling"),
        (["run", "--methods", "glnn", "--set", 'similarity_kernel="cosine"'], "similarity_kernel shapes NOSMOG's"),
        (["distill", "--method", "glnn", "--lam", "0.2", "--set", "lam=0.3"], "given by its own flag and by --set"),
        (["distill", "--set", "method=glnn"], "chosen by --method and --teacher"),
        (["distill", "--set", "teacher.epochs=3"], "--set teacher.* applies to g2m teacher and g2m run"),
    ],
)
def test_options_that_do_not_apply_are_refused(args, message, tmp_path):
    done = runner.invoke(app, [*args, "-d", "csbm", "--out", str(tmp_path / "o")])
    assert done.exit_code != 0 and message in done.output + str(done.exception), done.output


def test_set_reaches_the_saved_student(tmp_path, monkeypatch):
    """--set carries any field to the trained student's config; --tau is accepted where
    tempered_kd makes KD read it."""
    monkeypatch.setenv("G2M_CACHE_DIR", str(tmp_path / "cache"))
    taught = runner.invoke(app, ["teacher", "-d", "csbm", "--epochs", "3", "--set", "hidden=32", "-q"])
    assert taught.exit_code == 0, taught.output
    assert json.loads(next((tmp_path / "cache").rglob("meta.json")).read_text())["hparams"]["hidden"] == 32
    out = tmp_path / "s"
    done = runner.invoke(
        app,
        [
            "distill",
            "-d",
            "csbm",
            "--method",
            "glnn",
            "--tau",
            "2",
            "--epochs",
            "3",
            "--set",
            "tempered_kd=true",
            "--set",
            "similarity_weight=0.0",
            "--set",
            'tie_break="earlier"',
            "--out",
            str(out),
            "-q",
        ],
    )
    assert done.exit_code == 0, done.output
    config = json.loads((out / "student.json").read_text())["config"]
    assert config["tempered_kd"] is True and config["tau"] == 2.0 and config["tie_break"] == "earlier"


def test_eval_reads_a_student_saved_before_split_keys_named_their_graph(tmp_path, monkeypatch):
    monkeypatch.setenv("G2M_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "s"
    done = runner.invoke(app, ["distill", "-d", "csbm", "--method", "mlp", "--epochs", "3", "--out", str(out), "-q"])
    assert done.exit_code == 0, done.output
    meta = json.loads((out / "student.json").read_text())
    assert meta["split_key"].rsplit("-", 1)[-1].startswith("g")
    meta["split_key"] = meta["split_key"].rsplit("-g", 1)[0]  # as an older g2m wrote it
    (out / "student.json").write_text(json.dumps(meta))
    again = runner.invoke(app, ["eval", "--student", str(out)])
    assert again.exit_code == 0, again.output
    meta["split_key"] = meta["split_key"][:-1] + ("0" if meta["split_key"][-1] != "0" else "1")  # another split
    (out / "student.json").write_text(json.dumps(meta))
    assert "differs from the one" in str(runner.invoke(app, ["eval", "--student", str(out)]).exception)


def test_flags_are_generated_from_the_config_declarations():
    """A flag's type, help and interval come from its field; bools get --x/--no-x, tuples parse
    "5,5"; a flag must name a field."""
    import typer

    from g2m.cli.options import NO_FLAGS, Flags, Given, config_flags
    from g2m.cli.train import STUDENT_FLAGS
    from g2m.config import help_of

    demo = typer.Typer()
    seen: list[Given] = []

    @demo.command()
    @config_flags(
        Flags("teacher", (TeacherConfig,), ("fanouts", "hidden")), Flags("student", (StudentConfig,), ("guard",))
    )
    def command(name: str = "x", given: Given = NO_FLAGS) -> None:
        seen.append(given)

    done = runner.invoke(demo, ["--fanouts", "5,5", "--no-guard"])
    assert done.exit_code == 0, done.output
    assert seen[-1] == Given(student={"guard": False}, teacher={"fanouts": (5, 5)})
    done = runner.invoke(demo, ["--help"], terminal_width=200)
    assert "--guard" in done.output and "--no-guard" in done.output
    assert "In [1, inf)." in help_of(StudentConfig, "hidden")
    tau = STUDENT_FLAGS.help("tau")  # one flag, two tasks: each config's own help
    assert tau.startswith("Node: ") and "Link: Temperature of LLP's distribution loss" in tau
    with pytest.raises(ValueError, match="'hiden' is no field of StudentConfig"):
        Flags("student", (StudentConfig,), ("hiden",))


def test_an_inert_option_is_refused_only_where_nothing_reads_it():
    from g2m.cli.common import refuse_inert
    from g2m.errors import G2MError

    refuse_inert(["krd"], "gcn", {"tau": 2.0})  # KRD tempers KD and LFD (its recipe sets tempered_kd)
    refuse_inert(["glnn", "ffg2m"], "gcn", {"tau": 2.0})  # ffg2m's HFD reads it
    refuse_inert(["glnn"], "gcn", {"tau": 2.0, "tempered_kd": True})
    with pytest.raises(G2MError, match="tau is HFD's temperature and changes nothing for glnn, lfd"):
        refuse_inert(["glnn", "lfd"], "gcn", {"tau": 2.0})


def test_the_teacher_is_named_the_same_way_everywhere():
    for command in ("teacher", "distill", "run"):
        done = runner.invoke(app, [command, "--help"], terminal_width=200)
        assert "--teacher" in done.output and "-t" in done.output, command


def test_the_glnn_recipe_sets_glnns_own_teacher_and_student():
    done = runner.invoke(
        app, ["config", "show", "-d", "amazon-photo", "-t", "sage", "--method", "glnn", "--recipe", "glnn"]
    )
    assert done.exit_code == 0, done.output
    rows = {line.split()[0]: line.split()[1] for line in done.output.splitlines()[1:]}
    # graphless-neural-networks train.conf.yaml, a-photo: SAGE 2 x 128 fan-out 5,5; MLP lr 0.005, dropout 0.3
    assert (rows["teacher.hidden"], rows["teacher.sage_aggr"], rows["student.lr"], rows["student.dropout"]) == (
        "128",
        "'gcn'",
        "0.005",
        "0.3",
    )
    assert rows["student.label_pass"] == "True" and rows["student.similarity_weight"] == "0.0"


def test_a_config_file_holds_a_whole_run(tmp_path):
    """--config: a run's options as top-level keys and its config fields in [hparams.*] tables,
    under the command line; config show names the file's layer; a key no option has is refused."""
    run_file = tmp_path / "run.toml"
    run_file.write_text(
        'dataset = "csbm"\nteacher = "gcn"\nmethods = ["mlp", "glnn"]\nseeds = 1\nepochs = 2\n'
        "[hparams.teacher]\nhidden = 16\n[hparams.student]\nhidden = 8\nlam = 0.3\n"
    )
    out = tmp_path / "out"
    args = ["run", "--config", str(run_file), "--out", str(out), "-q", "--cache-dir", str(tmp_path / "c")]
    done = runner.invoke(app, [*args, "--teacher-hidden", "12"])
    assert done.exit_code == 0, done.output
    result = json.loads((out / "results.json").read_text())
    assert result["experiment"]["methods"] == ["mlp", "glnn"] and result["experiment"]["seeds"] == 1
    assert (result["teacher_config"]["hidden"], result["teacher_config"]["epochs"]) == (12, 2)  # the flag wins
    assert (result["student_configs"]["glnn"]["hidden"], result["student_configs"]["glnn"]["lam"]) == (8, 0.3)
    shown = runner.invoke(app, ["config", "show", "--config", str(run_file), "--method", "glnn", "--set", "lam=0.5"])
    rows = {line.split()[0]: line for line in shown.output.splitlines()[1:]}
    assert rows["student.hidden"].endswith(f"config file {run_file}") and rows["student.lam"].endswith("command line")
    run_file.write_text('dataset = "csbm"\nmethod = "glnn"\n')
    done = runner.invoke(app, ["run", "--config", str(run_file), "--out", str(out)])
    said = " ".join(done.output.replace("│", " ").split())  # the error box, unwrapped
    assert done.exit_code != 0 and "g2m run has no option method" in said, said


def test_the_krd_recipe_sets_krds_own_teacher_and_student():
    done = runner.invoke(app, ["config", "show", "-d", "cora", "-t", "gcn", "--method", "krd", "--recipe", "krd"])
    assert done.exit_code == 0, done.output
    rows = {line.split()[0]: line.split()[1] for line in done.output.splitlines()[1:]}
    # LirongWu/KRD best_parameters.json cora.tran.GCN: 3 x 1024, dropout_t 0.5, dropout_s 0.3, lamb 0.5, tau 0.8
    assert (rows["teacher.hidden"], rows["teacher.num_layers"], rows["teacher.dropout"]) == ("1024", "3", "0.5")
    assert (rows["student.dropout"], rows["student.lam"], rows["student.tau"]) == ("0.3", "0.5", "0.8")
    assert (rows["student.krd_start"], rows["student.reliability"]) == ("51", "'krd'")  # GCN: after epoch 50


def test_the_ffg2m_recipe_names_the_datasets_own_presets():
    plain = runner.invoke(app, ["config", "show", "-d", "cora", "-t", "sage", "--method", "ffg2m"])
    named = runner.invoke(app, ["config", "show", "-d", "cora", "-t", "sage", "--method", "ffg2m", "--recipe", "ffg2m"])
    assert plain.exit_code == 0 and named.exit_code == 0, named.output

    def values(output):
        return {line.split()[0]: line.split()[1] for line in output.splitlines()[1:]}

    assert values(plain.output) == values(named.output)  # the same settings: FF-G2M's official ones
    assert "recipe ffg2m (cora) [hparams.student.sage]" in named.output
    done = runner.invoke(app, ["config", "show", "-d", "texas", "-t", "sage", "--recipe", "ffg2m"])
    assert done.exit_code != 0 and "recipe 'ffg2m' has settings for" in str(done.exception)


def test_config_show_resolves_what_run_runs(tmp_path):
    # issue 41: `config show --config run.toml` with `graph = "mygraph.npz"` showed csbm's presets
    # (dropout 0.6, lam 0.4) while `run --config run.toml` trained with the file graph's defaults
    import json

    import numpy as np

    from g2m.data.csbm import csbm_tensors

    x, y, edges = csbm_tensors(num_nodes=80, num_classes=3, avg_degree=4, homophily=0.8, num_features=5, seed=2)
    masks = {k: np.zeros(80, dtype=bool) for k in ("train_mask", "val_mask", "test_mask")}
    masks["train_mask"][:20], masks["val_mask"][20:40], masks["test_mask"][40:] = True, True, True
    np.savez(tmp_path / "mygraph.npz", node_features=x.numpy(), node_labels=y.numpy(), edges=edges.t().numpy(), **masks)
    run_file = tmp_path / "run.toml"
    run_file.write_text(
        f'graph = "{tmp_path / "mygraph.npz"}"\nmethods = ["ffg2m"]\nseeds = 1\nepochs = 2\n'
        "[hparams.student]\nlam = 0.3\n"
    )
    runner = CliRunner()
    done = runner.invoke(app, ["run", "--config", str(run_file), "--out", str(tmp_path / "out"), "-q"])
    assert done.exit_code == 0, done.output
    result = json.loads((tmp_path / "out" / "results.json").read_text())
    shown = runner.invoke(app, ["config", "show", "--config", str(run_file), "--method", "ffg2m"])
    assert shown.exit_code == 0, shown.output
    values = {}
    for line in shown.output.splitlines()[1:]:
        name, value = line.split()[:2]
        values[name] = value
    assert "mygraph" in shown.output.splitlines()[0]
    for section, resolved in (("teacher", result["teacher_config"]), ("student", result["student_configs"]["ffg2m"])):
        for key, value in resolved.items():
            if key in ("epochs",):  # `epochs` is a run flag; config show does not take it
                continue
            shown_value = values[f"{section}.{key}"]
            want = repr(tuple(value) if isinstance(value, list) else value)
            assert shown_value == want.split()[0], (section, key, shown_value, want)
    assert values["student.lam"] == "0.3"


def test_config_show_of_a_heuristic_link_teacher_shows_the_student_alone():
    done = runner.invoke(app, ["config", "show", "-d", "cora", "--task", "link", "-t", "cn", "--method", "llp"])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == "cora, link task, cn teacher (a heuristic: nothing trained, nothing to configure), llp student"
    assert lines[1].startswith("student.method") and not any(line.startswith("teacher.") for line in lines)
    done = runner.invoke(
        app, ["config", "show", "-d", "cora", "--task", "link", "-t", "cn", "--set", "teacher.hidden=8"]
    )
    assert done.exit_code != 0 and "does not apply" in str(done.exception)


def test_config_show_and_distill_default_to_each_task_s_method():
    """Without --method a link task shows (and distils) LLP, a node task FF-G2M: a node method is
    never asked of a link student."""
    for task, method in (("link", "llp"), ("node", "ffg2m")):
        done = runner.invoke(app, ["config", "show", "-d", "cora", "--task", task])
        assert done.exit_code == 0, done.output
        assert done.output.splitlines()[0].endswith(f"{method} student")
