"""``python -m lab``: the lab's command line (see :mod:`lab.cli`)."""

from lab.cli import main

main()
