"""Bad options are refused when the config is built, before any teacher trains."""

from __future__ import annotations

import pytest

from g2m.config import LinkStudentConfig, LinkTeacherConfig, StudentConfig, TeacherConfig

# ---------- bad options, refused when the config is built ----------


@pytest.mark.parametrize(
    "cls,field,value,message",
    [
        (StudentConfig, "lam", 1.5, r"lam must be in \[0, 1\], got 1.5"),
        (StudentConfig, "hidden", 0, r"hidden must be in \[1, inf\), got 0"),
        (StudentConfig, "tau", -1.0, r"tau must be in \(0, inf\)"),
        (StudentConfig, "chunk_size", -5, r"chunk_size must be in \[1, inf\)"),
        (StudentConfig, "dropout", 1.0, r"dropout must be in \[0, 1\)"),
        (StudentConfig, "batch_size", 0, r"batch_size must be in \[1, inf\)"),
        (StudentConfig, "norm", "group", "norm must be one of none, batch, layer"),
        (StudentConfig, "method", "glnnn", "unknown node method 'glnnn'"),
        (StudentConfig, "epochs", "10", r"StudentConfig.epochs must be a number"),
        (TeacherConfig, "model", "gin", "model must be one of gcn, sage, gat, appnp"),
        (TeacherConfig, "fanouts", (15, 0), "fanouts must be positive"),
        (TeacherConfig, "lr", 0.0, r"lr must be in \(0, inf\)"),
        (LinkTeacherConfig, "scorer", "cosine", "scorer must be one of dot, mlp"),
        (LinkStudentConfig, "walks", 0, r"walks must be in \[1, inf\)"),
        (LinkStudentConfig, "w_rank", -1.0, r"w_rank must be in \[0, inf\)"),
        (LinkStudentConfig, "method", "llq", "method must be one of"),
    ],
)
def test_config_values_are_checked_when_built(cls, field, value, message):
    with pytest.raises(ValueError, match=message):
        cls(**{field: value})


@pytest.mark.parametrize(
    "option", [["--lam", "1.5"], ["--student-hidden", "0"], ["--tau", "-1"], ["--chunk-size", "-5"], ["--methods", ""]]
)
def test_bad_options_stop_before_any_teacher_is_trained(option, tmp_path):
    from typer.testing import CliRunner

    from g2m.cli.main import app

    res = CliRunner().invoke(
        app,
        [
            "run",
            "-d",
            "csbm",
            "--seeds",
            "1",
            "--out",
            str(tmp_path / "r"),
            "--cache-dir",
            str(tmp_path / "cache"),
            *option,
        ],
    )
    assert res.exit_code != 0
    assert not (tmp_path / "cache").exists() and not (tmp_path / "r" / "results.json").exists()
