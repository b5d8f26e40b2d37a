"""Repository-level pytest configuration: load the s1sr plugin (clause steps, verdicts, options)."""

pytest_plugins = ["s1sr.plugin"]
