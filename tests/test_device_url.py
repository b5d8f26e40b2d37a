"""A device URL is joined with the protocol's paths whatever its trailing path: /v1 names the same endpoint, a proxy's
prefix is kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from s1sr.catalogue import find_dmc
from s1sr.devices.adapter import DeviceError
from s1sr.devices.remote import RemoteAdapter
from tests.conftest import serve_device


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with serve_device("secure-esme") as url:
        yield url


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
def test_the_endpoint_and_its_v1_path_name_the_same_devices(endpoint: str, suffix: str) -> None:
    adapter = RemoteAdapter(find_dmc("secure-esme"), endpoint + suffix)
    try:
        assert sorted(d.device_id for d in adapter.devices()) == [
            "00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-A2", "00-DB-12-34-56-78-90-B0", "00-DB-12-34-56-78-90-B2",
        ]  # fmt: skip
    finally:
        adapter.close()


def test_a_path_prefix_is_kept(endpoint: str) -> None:
    adapter = RemoteAdapter(find_dmc("secure-esme"), endpoint + "/rig1")
    try:
        with pytest.raises(DeviceError, match=r"no GET /rig1/v1/devices in protocol v1"):
            adapter.devices()
    finally:
        adapter.close()
