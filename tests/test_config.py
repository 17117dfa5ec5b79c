import pytest

from g2m.config import link_student_config, student_config, teacher_config
from g2m.data import get_spec


def test_presets_layer_in_order():
    cora = get_spec("cora")
    assert teacher_config(cora, "gcn").hidden == 256
    assert (teacher_config(cora, "gat").hidden, teacher_config(cora, "gat").heads) == (64, 8)
    assert student_config(cora, "ffg2m", "gcn").tau == 1.5
    assert student_config(cora, "hfd", "gcn").lam == 0.5  # method table overrides the common one
    assert student_config(cora, "hfd", "gcn", lam=0.1).lam == 0.1  # explicit beats preset
    assert student_config(cora, "hfd", "gcn", lam=None).lam == 0.5  # unset options keep the preset
    assert student_config(None, "glnn", "gcn").hidden == 256  # code defaults without a spec


def test_unknown_fields_are_errors():
    with pytest.raises(ValueError, match="unknown StudentConfig fields"):
        student_config(None, "glnn", "gcn", hiden=3)
    with pytest.raises(ValueError, match="unknown LinkStudentConfig fields"):
        link_student_config(None, "llp", lam=0.5)


def test_gat_kwargs_only_for_gat():
    assert "heads" in teacher_config(None, "gat").model_kwargs()
    assert "heads" not in teacher_config(None, "gcn").model_kwargs()
