"""The pytest module that turns the selected feature files into tests (see :mod:`s1sr.plugin`)."""
