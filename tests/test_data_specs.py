"""The shipped dataset specs and recipes: every table builds a valid configuration."""


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
