"""One module per provider key: ``open_target(tmp_path)`` (see the package docstring)."""
