"""GNN teachers (PyG) and their training loops."""

from g2m.teachers.models import GNN, TEACHERS, build_teacher

__all__ = ["GNN", "TEACHERS", "build_teacher"]
