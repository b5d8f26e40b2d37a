"""Every scenario of the selected feature folders, as pytest tests (steps come from s1sr.plugin)."""

from pytest_bdd import scenarios

from s1sr.plugin import active_feature_dirs

scenarios(*(str(path) for path in active_feature_dirs()))
