"""S1SPs by name: ``reference`` (built-in), entry-point group ``s1sr.s1sp``, or ``module:attr``."""

from __future__ import annotations

from s1sr.errors import ConfigError
from s1sr.loading import load
from s1sr.s1sp.api import S1SP

GROUP = "s1sr.s1sp"
BUILT_IN = {"reference": "s1sr.s1sp.translator:ReferenceS1SP"}


def s1sp_class(name: str) -> type[S1SP]:
    """The S1SP class registered as ``name``."""
    found = load(name, GROUP, BUILT_IN, "--s1sp")
    obj = found.obj
    if not (isinstance(obj, type) and issubclass(obj, S1SP)):
        raise ConfigError(f"'{name}' ({found.source}) is not an S1SP subclass", "--s1sp", "subclass s1sr.s1sp.api.S1SP")
    return obj
