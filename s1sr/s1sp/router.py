"""Handlers by Service Reference Variant, registered with :func:`handles`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from s1sr.duis.request import ServiceRequest
    from s1sr.duis.response import SMETS1Response
    from s1sr.s1sp.translator import HandlerContext

Handler = Callable[["HandlerContext", "ServiceRequest"], "SMETS1Response"]

HANDLERS: dict[str, Handler] = {}


def handles(*srvs: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of these SRVs."""

    def register(func: Handler) -> Handler:
        for srv in srvs:
            if srv in HANDLERS:
                raise RuntimeError(f"SRV {srv} has two handlers: {HANDLERS[srv].__name__} and {func.__name__}")
            HANDLERS[srv] = func
        return func

    return register
