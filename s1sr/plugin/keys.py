"""What the plugin's parts hand each other: pytest stash keys, and the skip prefix meaning "not applicable"."""

from __future__ import annotations

import pytest

from s1sr.report.results import ScenarioResult
from s1sr.session import UserSession

#: A scenario example's verdict record, on its pytest item.
RESULT_KEY = pytest.StashKey[ScenarioResult]()
#: The User's session of a scenario, on its pytest item (its evidence goes into the record).
SESSION_KEY = pytest.StashKey[UserSession]()
#: A skip whose reason starts with this is ``not applicable``, not ``not run``.
NOT_APPLICABLE = "not applicable: "
