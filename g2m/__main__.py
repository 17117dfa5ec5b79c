"""``python -m g2m``: the command line, as the ``g2m`` console script runs it."""

from g2m.cli.main import main

main()
