from lab.link_table import check_link_cell
from lab.node_table import check_glnn_cells, check_heterophily_cells, check_public_cells, summary_table


def _result(**means):
    return {
        "summary": [
            {"model": "teacher (sage)" if m == "teacher" else m, "test_mean": v / 100} for m, v in means.items()
        ],
        "homophily": {"adjusted": -0.2},
    }


def test_public_checks():
    res = _result(teacher=80.0, mlp=60.0, ffg2m=81.0)
    assert check_public_cells({("cora", "gcn", "transductive"): res}) == [
        "PASS: cora/gcn FF-G2M 81.00 >= teacher 80.00",
        "PASS: cora/gcn FF-G2M - MLP = 21.00 points (>= 15)",
    ]
    res = _result(teacher=80.0, mlp=60.0, ffg2m=70.0)
    assert [c[:4] for c in check_public_cells({("cora", "gcn", "transductive"): res})] == ["FAIL", "FAIL"]
    assert check_public_cells({("cora", "gcn", "inductive"): res}) == []


def test_glnn_checks_against_the_paper():
    cells = {
        ("cora", "sage", "transductive"): _result(teacher=80.0, mlp=59.0, glnn=79.3, ffg2m=81.0),
        ("citeseer", "sage", "transductive"): _result(teacher=70.0, mlp=59.0, glnn=69.0, ffg2m=68.0),
        ("amazon-photo", "gcn", "transductive"): _result(teacher=90.0, mlp=75.0, glnn=91.0, ffg2m=92.0),
        ("coauthor-cs", "sage", "transductive"): _result(teacher=90.0, mlp=80.0, glnn=90.0, ffg2m=89.0),
    }
    lines = check_glnn_cells(cells)
    assert lines[0] == "PASS: cora GLNN 79.30 >= paper 80.54 - 1.35"  # within one paper std
    assert lines[1] == "PASS: cora FF-G2M 81.00 >= GLNN 79.30"
    assert lines[2].startswith("FAIL: citeseer GLNN 69.00 >= paper 71.77 - 2.01")
    assert lines[3].startswith("FAIL: citeseer FF-G2M")
    # FF-G2M's datasets, every transductive cell: (22 + 9 + 17 + 9) / 4 and (1 - 2 + 2 - 1) / 4
    assert lines[4].startswith("PASS: FF-G2M - MLP = 14.25 points averaged over 4")
    assert lines[5].startswith("PASS: FF-G2M - teacher = +0.00 points")


def test_heterophily_lines_say_plainly_where_ffg2m_loses():
    lines = check_heterophily_cells(
        {("texas", "sage", "transductive"): _result(teacher=80.0, mlp=79.0, glnn=85.0, ffg2m=60.0)}
    )
    assert lines == ["texas: FF-G2M 60.00 is below max(MLP, GLNN) 85.00 (-25.00; adjusted homophily -0.20)"]


def test_heterophily_safe_variant_is_held_to_one_point_below_the_better_baseline():
    cell = ("texas", "sage", "transductive")
    lines = check_heterophily_cells({cell: _result(teacher=80.0, mlp=79.0, glnn=85.0, ffg2m=60.0, ffg2m_safe=84.5)})
    assert lines[1] == "PASS: texas ffg2m_safe 84.50 >= max(MLP, GLNN) 85.00 - 1.0 (-0.50)"
    lines = check_heterophily_cells({cell: _result(teacher=80.0, mlp=86.0, glnn=85.0, ffg2m_safe=84.5)})
    assert lines == ["FAIL: texas ffg2m_safe 84.50 >= max(MLP, GLNN) 86.00 - 1.0 (-1.50)"]  # no ffg2m row


def test_glnn_checks_hold_the_safe_variant_within_half_a_point_of_ffg2m():
    cells = {
        ("cora", "sage", "transductive"): _result(teacher=80.0, glnn=80.0, ffg2m=81.0, ffg2m_safe=80.6),
        ("coauthor-cs", "gcn", "transductive"): _result(teacher=90.0, ffg2m=92.0, ffg2m_safe=91.4),
    }
    lines = [line for line in check_glnn_cells(cells) if "ffg2m_safe" in line]
    assert lines == [
        "PASS: cora/sage ffg2m_safe 80.60 >= FF-G2M 81.00 - 0.5",
        "FAIL: coauthor-cs/gcn ffg2m_safe 91.40 >= FF-G2M 92.00 - 0.5",
    ]


def test_the_summary_counts_which_candidate_the_guard_kept_per_cell():
    guarded = _result(teacher=80.0, mlp=79.0, ffg2m_safe=84.5)
    guarded["summary"] = [{**row, "test_std": 0.01} for row in guarded["summary"]]
    picks = ["labels", "distilled", "distilled"]
    guarded["runs"] = [{"model": "ffg2m_safe", "seed": s, "guard": g} for s, g in enumerate(picks)]
    plain = {**guarded, "summary": guarded["summary"][:2], "runs": [{"model": "mlp", "seed": 0}]}
    lines = summary_table({("texas", "sage", "transductive"): guarded, ("cornell", "sage", "transductive"): plain}, "t")
    assert lines.splitlines()[2:] == [
        "| dataset | teacher | setting | h_adj | teacher | mlp | ffg2m_safe | guard kept (L / w / u) |",
        "|---|---|---|---|---|---|---|---|",
        "| texas | sage | transductive | -0.20 | 80.00 ± 1.00 | 79.00 ± 1.00 | 84.50 ± 1.00 | 1 / 2 / 0 |",
        "| cornell | sage | transductive | -0.20 | 80.00 ± 1.00 | 79.00 ± 1.00 |  |  |",
    ]
    assert "guard kept" not in summary_table({("cornell", "sage", "transductive"): plain}, "t")


def _link_result(mlp, llp):
    runs = [{"model": "mlp", "seed": k, "hits@20": v} for k, v in enumerate(mlp)]
    return {"runs": runs + [{"model": "llp", "seed": k, "hits@20": v} for k, v in enumerate(llp)]}


def test_link_checks_give_the_paired_verdict():
    cell = ("cora", "sage", "transductive")
    mlp = [0.60, 0.64, 0.58, 0.66, 0.61, 0.63, 0.59, 0.65, 0.62, 0.60]
    gain = [0.05, 0.04, 0.06, 0.03, 0.05, 0.04, -0.01, 0.05, 0.06, -0.02]  # ahead on 8 of 10
    line = check_link_cell(cell, _link_result(mlp, [m + g for m, g in zip(mlp, gain)]))[0]
    assert line.startswith("cora (transductive): llp wins against mlp") and "ahead on 8/10" in line
    gain[2] = -0.01  # ahead on 7 of 10 only
    line = check_link_cell(cell, _link_result(mlp, [m + g for m, g in zip(mlp, gain)]))[0]
    assert "llp does not win" in line and "ahead on 7/10" in line
    wild = [0.30, -0.25, 0.30, -0.25, 0.30, 0.01, 0.01, 0.01, 0.01, 0.01]  # 8/10 ahead, mean within 2 SE
    assert "does not win" in check_link_cell(cell, _link_result(mlp, [m + g for m, g in zip(mlp, wild)]))[0]
    assert "too few seeds" in check_link_cell(cell, _link_result(mlp[:5], [m + 0.1 for m in mlp[:5]]))[0]


def test_node_table_parts_merge_cell_by_cell(tmp_path, monkeypatch):
    import json

    from g2m.data import get_spec
    from lab.node_table import merge_node_tables, run_node_table

    hparams = get_spec("csbm").hparams  # small and short, through the presets the table reads
    monkeypatch.setitem(hparams, "teacher", {"hidden": 16, "epochs": 10, "patience": 10})
    monkeypatch.setitem(hparams, "student", {**hparams["student"], "hidden": 16, "epochs": 10, "patience": 10})

    cell = (("csbm", "gcn", "transductive"),)
    for first in (0, 1):  # one table split by seed across two processes
        run_node_table(
            "public",
            tmp_path / f"part{first}",
            cache_dir=str(tmp_path / "c"),
            seeds=1,
            first_seed=first,
            cells=cell,
            methods=["mlp", "glnn"],
            progress=False,
        )
    md = merge_node_tables("public", [tmp_path / "part0", tmp_path / "part1"], tmp_path / "all")
    merged = json.loads((tmp_path / "all" / "csbm-gcn-transductive" / "results.json").read_text())
    assert [r["seeds"] for r in merged["summary"]] == [2, 2, 2]
    assert "| csbm | gcn | transductive | 0.49 |" in md and merged["title"].endswith("2 seeds")
    assert json.loads((tmp_path / "all" / "node_table.json").read_text())["cells"] == ["csbm-gcn-transductive"]
    # every cell's results file records what produced it, and the merge keeps each part's record
    part = json.loads((tmp_path / "part1" / "csbm-gcn-transductive" / "results.json").read_text())
    assert part["provenance"]["torch"] and part["provenance"]["device"]["device"] == "cpu"
    assert len(merged["parts_provenance"]) == 2 and merged["provenance"]["g2m"]
