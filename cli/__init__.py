"""The ``g2m`` command line (imports as ``g2m.cli``)."""
