"""g2m's lab: what exists to regenerate and check g2m's own docs, kept beside the package.

The tables of ``docs/results`` with the papers' claims checked (:mod:`lab.node_table`,
:mod:`lab.link_table`), the micro-benchmarks of g2m's kernels and epochs on our machine
(:mod:`lab.rank_loss`, :mod:`lab.loss_call`, :mod:`lab.link_epoch`, ...), the probes, and the tests
that hold the docs to the files they quote (``lab/tests``). It imports ``g2m``; ``g2m`` never imports
it, and the wheel does not ship it (as PyG keeps ``benchmark/`` beside ``torch_geometric/``). Its
command line: ``python -m lab --help``, from the repository root.
"""
