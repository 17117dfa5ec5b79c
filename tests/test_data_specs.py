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


def test_every_recipe_teacher_and_student_table_builds_a_config():
    """Each teacher a recipe lists, on each dataset it covers, and its students give valid configs
    (a misspelt or unknown field in a recipe fails here, not in a user's run)."""
    from g2m.config import student_config, teacher_config
    from g2m.data.specs import get_spec, read_recipe, recipe_names, with_recipe

    checked = 0
    for name in recipe_names():
        recipe = read_recipe(name)
        datasets = recipe.get("datasets") or sorted(k for k, v in recipe.items() if isinstance(v, dict))
        for dataset in datasets:
            for teacher in recipe.get("teachers", []):
                spec = with_recipe(get_spec(dataset), name, teacher)
                assert teacher_config(spec, teacher).model == teacher
                student_config(spec, "glnn", teacher)
                checked += 1
    assert checked >= 20  # glnn alone: 5 datasets x 4 teachers
