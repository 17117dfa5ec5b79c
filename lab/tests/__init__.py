"""The lab's tests (a package, so that pytest puts the repository root, where ``lab`` is, on the path)."""
