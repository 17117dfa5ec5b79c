"""mypy follows an option from its resolved config to the loss: ``student_config`` returns a
:class:`~g2m.config.StudentConfig` whose ``tau`` is a ``float``, which ``teacher_terms`` hands to
:class:`~g2m.losses.terms.HFDTerm` as one; a ``str`` in its place is a type error. (The command
line's values are one layer of key/value overrides, validated against the same declarations when
the layers resolve: Hydra's and OmegaConf's structured configs work the same way.)"""

import pytest

CHAIN = """
from typing import assert_type

import torch

from g2m.config import StudentConfig, student_config
from g2m.losses.terms import HFDTerm, teacher_terms

config = student_config(None, "ffg2m", "sage", tau=2.0)
assert_type(config, StudentConfig)
assert_type(config.tau, float)
terms = teacher_terms(config.objective, torch.zeros(3, 2), torch.zeros(2, 0, dtype=torch.long), {tau})
hfd = next(term for term in terms if isinstance(term, HFDTerm))
assert_type(hfd.tau, float)
"""


@pytest.mark.slow
def test_mypy_follows_tau_from_the_config_to_hfd_term(tmp_path):
    from mypy import api

    def check(tau: str) -> tuple[str, int]:
        snippet = tmp_path / "chain.py"
        snippet.write_text(CHAIN.format(tau=tau))
        out, err, status = api.run([str(snippet), "--python-version", "3.11", "--ignore-missing-imports"])
        return out + err, status

    out, status = check("config.tau")
    assert status == 0, out
    out, status = check('"2.0"')  # a string where HFD's temperature goes
    assert status == 1 and 'Argument 4 to "teacher_terms" has incompatible type "str"; expected "float"' in out, out
