import pytest

from g2m.config import link_student_config, student_config, teacher_config
from g2m.data import get_spec


def test_presets_layer_in_order():
    cora = get_spec("cora")
    assert (teacher_config(cora, "gat").hidden, teacher_config(cora, "gat").heads) == (1024, 4)
    assert student_config(cora, "ffg2m", "gcn").tau == 1.5
    assert student_config(cora, "hfd", "gcn", lam=0.1).lam == 0.1  # explicit beats preset
    assert student_config(cora, "hfd", "gcn", lam=None).lam == 0.4  # unset options keep the preset
    assert student_config(None, "glnn", "gcn").hidden == 256  # code defaults without a spec


# LirongWu/FF-G2M param/best_parameters.json: (hidden_dim, num_layers, dropout_t, dropout_s, lamb, tau, lr)
OFFICIAL = {
    ("cora", "gcn"): (512, 3, 0.6, 0.5, 0.4, 1.5, 0.01),
    ("cora", "sage"): (512, 3, 0.4, 0.3, 0.5, 1.3, 0.01),
    ("citeseer", "gcn"): (256, 2, 0.5, 0.5, 0.1, 1.5, 0.01),
    ("citeseer", "sage"): (1024, 2, 0.5, 0.5, 0.1, 1.2, 0.01),
    ("amazon-photo", "gcn"): (2048, 3, 0.5, 0.6, 0.1, 1.3, 0.001),
    ("coauthor-physics", "sage"): (1024, 2, 0.5, 0.6, 0.5, 1.1, 0.01),
}


@pytest.mark.parametrize("cell", sorted(OFFICIAL))
@pytest.mark.parametrize("method", ["mlp", "glnn", "hfd", "ffg2m"])
def test_official_ffg2m_presets(cell, method):
    dataset, teacher = cell
    hidden, layers, dropout_t, dropout_s, lam, tau, lr = OFFICIAL[cell]
    spec = get_spec(dataset)
    t, s = teacher_config(spec, teacher), student_config(spec, method, teacher)
    # teacher and student share depth and width; the MLP takes dropout_t, the GNN dropout_s
    assert (t.hidden, t.num_layers, t.dropout, t.input_dropout, t.lr) == (hidden, layers, dropout_s, 0.0, 0.01)
    assert (s.hidden, s.num_layers, s.dropout, s.lam, s.tau, s.lr) == (hidden, layers, dropout_t, lam, tau, lr)
    assert (s.epochs, s.patience, s.weight_decay, s.tie_break, s.tempered_kd) == (500, 50, 5e-4, "later", False)
    assert t.sage_aggr == ("gcn" if teacher == "sage" else "mean")


def test_bad_tie_break_and_aggregator():
    with pytest.raises(ValueError, match="tie_break"):
        student_config(None, "glnn", "gcn", tie_break="first")
    with pytest.raises(ValueError, match="sage_aggr"):
        teacher_config(None, "sage", sage_aggr="max")


def test_unknown_fields_are_errors():
    with pytest.raises(ValueError, match="unknown StudentConfig fields"):
        student_config(None, "glnn", "gcn", hiden=3)
    with pytest.raises(ValueError, match="unknown LinkStudentConfig fields"):
        link_student_config(None, "llp", lam=0.5)


def test_gat_kwargs_only_for_gat():
    assert "heads" in teacher_config(None, "gat").model_kwargs()
    assert "heads" not in teacher_config(None, "gcn").model_kwargs()


def test_options_added_later_leave_old_cache_tags_alone():
    from dataclasses import asdict, replace

    from g2m.cache.keys import config_tag, stable_hash
    from g2m.config import LinkStudentConfig, LinkTeacherConfig, TeacherConfig

    for cfg, new in (
        (
            TeacherConfig(),
            (
                "sampler",
                "hidden_at",
                "codebook_size",
                "codebook_decay",
                "commitment_weight",
                "node_reconstruction_weight",
                "edge_reconstruction_weight",
            ),
        ),
        (LinkTeacherConfig(), ("tie_break", "batch_size")),
        (LinkStudentConfig(method="llp"), ("walker", "tie_break", "batch_size")),
    ):
        before = {k: v for k, v in asdict(cfg).items() if k not in new}  # the config as it was
        assert config_tag(cfg) == stable_hash(before, 8)
        for name in new:  # set to anything but the default, the option does change the tag
            other = {
                "sampler": "g2m",
                "walker": "g2m",
                "hidden_at": "pre-activation",
                "codebook_size": 10,
                "batch_size": 1024,
            }.get(name, 0.5 if "weight" in name or "decay" in name else "later")
            assert config_tag(replace(cfg, **{name: other})) != config_tag(cfg)


def test_a_changed_default_changes_only_the_tags_of_the_configs_it_changes():
    """position_backend's default (gensim) differs from what g2m <= 0.1 did (its torch skip-gram):
    configs without position features keep their tags, torch-position configs keep theirs, and
    gensim-position configs get new ones (so no run log reuses a student of the old learner)."""
    from dataclasses import asdict, replace

    from g2m.cache.keys import config_tag, stable_hash
    from g2m.config import StudentConfig

    def old_tag(cfg):  # the tag as g2m <= 0.1 computed it, before the field existed
        values = {k: v for k, v in asdict(cfg).items() if k != "position_backend"}
        for f in __import__("dataclasses").fields(cfg):
            if f.metadata.get("omit_default_from_tag") and f.name in values and values[f.name] == f.default:
                del values[f.name]
        return stable_hash(values, 8)

    plain = StudentConfig(method="glnn")
    assert config_tag(plain) == old_tag(plain)
    torch_position = replace(plain, position="deepwalk", position_backend="torch")
    assert config_tag(torch_position) == old_tag(torch_position)
    gensim_position = replace(plain, position="deepwalk")
    assert config_tag(gensim_position) != config_tag(torch_position)


def test_a_field_that_changed_nothing_is_skipped_when_configs_are_compared():
    """position_backend's default changed (torch -> gensim) but it reads nothing without position
    features: a results file written before the change still merges (as its cache tag is unchanged)."""
    from dataclasses import asdict

    from g2m.config import StudentConfig, unread_fields

    assert "position_backend" in unread_fields(StudentConfig, asdict(StudentConfig(method="ffg2m")))
    assert "position_backend" not in unread_fields(
        StudentConfig, asdict(StudentConfig(method="glnn", position="deepwalk"))
    )


def test_unknown_field_names_its_layer_and_the_nearest_field():
    with pytest.raises(ValueError, match=r"\(command line\): 'taux' \(did you mean 'tau'\?\) is no option"):
        student_config(None, "ffg2m", "sage", taux=2.0)
    with pytest.raises(ValueError, match=r"'zzz' is no option of LinkStudentConfig"):
        link_student_config(None, "llp", zzz=1)
