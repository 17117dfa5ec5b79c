"""The shipped dataset specs: every recorded best student is what validation chooses in the
committed results file the spec names as its source."""

import json
from pathlib import Path

from g2m.data.specs import _shipped_specs
from g2m.evaluation.compare import best_on_validation

REPO = Path(__file__).resolve().parents[1]


def test_every_best_student_with_a_source_is_validations_choice_in_that_file():
    sourced = [
        (spec.name, teacher, entry)
        for spec in _shipped_specs().values()
        for teacher, entry in spec.best.items()
        if "source" in entry
    ]
    assert len(sourced) >= 13  # Cora, CiteSeer and the heterophilous graphs
    for name, teacher, entry in sourced:
        result = json.loads((REPO / entry["source"]).read_text())
        assert result["experiment"]["dataset"] == name and result["experiment"]["teacher"] == teacher, entry
        chosen = best_on_validation(result["runs"]).method
        assert entry["method"] == chosen, (
            f"{name}.toml [best.{teacher}] says {entry['method']}; {entry['source']} chooses {chosen}"
        )
