"""Declarative dataset specs (one TOML file per dataset), importable as ``g2m.specs``."""
