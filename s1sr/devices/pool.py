"""Lab-rig pools: several device endpoints (rigs) for one run, each serving one scenario at a time.

A pool is given as ``--pool FILE`` (``pytest --s1sr-pool FILE``), a TOML file::

    wait_s = 600                       # optional: seconds a scenario waits for a free rig of its DMC

    [[rig]]
    name = "esme-1"                    # optional (default rig-1, rig-2... in file order)
    url = "http://10.0.0.11:8765"      # the rig's device endpoint (s1sr serve-device, or a lab's own)
    dmc = "secure-esme"                # the Device Model Combination it holds
    token = "..."                      # optional: sent as Authorization: Bearer (keep the file private)

or as ``--device-url`` given more than once (every rig of the run's one DMC). Every rig is reached
by the remote adapter (:mod:`s1sr.devices.remote`).

Each scenario leases one rig of its DMC exclusively (:mod:`s1sr.devices.lease`: across every
process of the run, and every run on the machine), resets it, runs on it and lets it go, failure
or not. A rig that stops answering (:class:`~s1sr.devices.remote.RigDown`, or any timeout) ends
the scenario in flight as ``error``, leaves the pool for the rest of the run, and one line says so
("rig NAME (URL) left the pool: why"); a rig that fails before its scenario began (unreachable,
its reset refused, another estate) leaves the same way, and the scenario goes to another rig.
When no rig of a DMC is left, its remaining scenarios are ``not run``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s1sr.catalogue import find_dmc
from s1sr.devices import wire
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceError, DeviceInfo, DeviceTimeout
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.devices.lease import Lease, NoRigFree, NoRigLeft, RigLeases, locks_folder
from s1sr.devices.recording import RecordingAdapter
from s1sr.devices.remote import RemoteAdapter, RigDown, check_url, endpoint_key
from s1sr.errors import ConfigError, S1srError
from s1sr.toml_file import read_toml_file

#: Seconds a scenario waits for a free rig of its DMC, unless the pool file says otherwise.
DEFAULT_WAIT_S = 600.0
#: Longest ``wait_s`` a pool file may give: an hour.
MAX_WAIT_S = 3600.0
#: Largest pool file read, most rigs in a pool, longest rig name.
MAX_POOL_BYTES, MAX_RIGS, MAX_NAME = 256 * 1024, 256, 64
#: The keys of a ``[[rig]]`` table, and of the file.
RIG_KEYS, FILE_KEYS = ("name", "url", "dmc", "token"), ("rig", "wait_s")
#: How much of a rig's reason for leaving a ``not run`` scenario's reason repeats.
WHY_CHARS = 120


class RigUnavailable(Exception):
    """No rig of the scenario's DMC could be leased: the scenario is ``not run`` (the text says why)."""


@dataclass(frozen=True)
class Rig:
    """One device endpoint of the pool, holding one estate of ``dmc``."""

    name: str
    url: str
    dmc: str
    token: str | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        """The endpoint, written one way (:func:`~s1sr.devices.remote.endpoint_key`): one rig, one key."""
        return endpoint_key(self.url)

    def label(self) -> str:
        """``NAME (URL)``, as the log and the reasons name the rig."""
        return f"{self.name} ({self.url})"

    def options(self, base: Mapping[str, str]) -> dict[str, str]:
        """The remote adapter's options for this rig: the run's (timeout...), its URL, and its token if it has one."""
        return {**base, "url": self.url} | ({"token": self.token} if self.token is not None else {})


@dataclass
class _Runtime:
    """What this process knows of the pool while the run goes: its leases, rigs checked, rigs preferred."""

    leases: RigLeases
    #: Rigs whose estate this process has checked (the DMC's meter model is there).
    checked: set[str] = field(default_factory=set)
    #: The rig this process last ran a scenario of each DMC on (tried first next time).
    preferred: dict[str, str] = field(default_factory=dict)


@dataclass
class RigPool:
    """The rigs of a run; ``where`` names the option that gave them, for messages."""

    rigs: tuple[Rig, ...]
    where: str
    wait_s: float = DEFAULT_WAIT_S
    _runtime: _Runtime | None = field(default=None, init=False, repr=False, compare=False)

    def dmcs(self) -> list[str]:
        """The DMCs the rigs hold, in the pool's order."""
        return list(dict.fromkeys(rig.dmc for rig in self.rigs))

    def serving(self, dmcs: Sequence[str]) -> list[Rig]:
        """The rigs that hold one of ``dmcs``, in the pool's order."""
        return [rig for rig in self.rigs if rig.dmc in dmcs]

    def workers(self, dmcs: Sequence[str]) -> int:
        """Worker processes that keep every rig of the run busy: one per rig (none for a single rig)."""
        count = len(self.serving(dmcs))
        return count if count > 1 else 0

    def describe(self, dmcs: Sequence[str]) -> str:
        """The adapter as the run's record names it: remote, and each rig of the run (never a token)."""
        rigs = self.serving(dmcs)
        listed = "; ".join(f"{rig.name} = {rig.url} ({rig.dmc})" for rig in rigs)
        return f"remote, pool of {len(rigs)} rig{'s' if len(rigs) != 1 else ''}: {listed}"

    def check(self, dmcs: Sequence[str], options: Mapping[str, str]) -> None:
        """Before anything runs: every rig of ``dmcs`` answers and holds its DMC (ConfigError naming the rig)."""
        locks_folder()
        for rig in self.serving(dmcs):
            try:
                RemoteAdapter.create(find_dmc(rig.dmc), rig.options(options)).close()
            except S1srError as exc:
                raise ConfigError(
                    f"rig {rig.label()}: {exc.what}", self.where, "start it, or take it out of the pool"
                ) from None

    @contextmanager
    def lease(
        self, dmc: str, options: Mapping[str, str], *, run: str | None, worker: int, log: Callable[[str], None]
    ) -> Iterator[LeasedRig]:
        """A rig of ``dmc`` held for one scenario, reset, with its adapter; let go when the block ends.

        ``run``: the token every process of the run shares (None: this process alone runs the
        scenarios); ``worker``: this process's number, which spreads the first leases over the rigs;
        ``log``: where the line about a rig that leaves goes. Raises :class:`RigUnavailable` when no
        rig of ``dmc`` is left or none came free within the wait.
        """
        runtime = self._runtime_for(run)
        rigs = {rig.key: rig for rig in self.rigs if rig.dmc == dmc}
        keys = list(rigs)
        if not keys:
            raise RigUnavailable(f"no rig of the pool holds DMC {dmc}")
        prefer = runtime.preferred.get(dmc, keys[worker % len(keys)])
        deadline = time.monotonic() + self.wait_s  # one wait, however many rigs leave while it lasts
        while True:
            try:
                lease = runtime.leases.acquire(keys, max(0.0, deadline - time.monotonic()), prefer)
            except NoRigLeft as exc:
                raise RigUnavailable(_none_left(dmc, [(rigs[key], why) for key, why in exc.left.items()])) from None
            except NoRigFree:
                raise RigUnavailable(
                    f"no rig of DMC {dmc} came free within {self.wait_s:g} s (the pool's wait_s)"
                ) from None
            rig = rigs[lease.key]
            try:
                inner = RemoteAdapter.from_options(find_dmc(dmc), rig.options(options))
            except BaseException:
                lease.release()
                raise
            leased = LeasedRig(rig, lease, inner, log)
            try:
                if rig.key not in runtime.checked:
                    _check_estate(leased.adapter, dmc)
                    runtime.checked.add(rig.key)
                leased.adapter.reset()
            except DeviceError as exc:  # before the scenario began: the rig leaves, the scenario goes to another
                leased.stopped(str(exc))
                leased.end()
                continue
            except BaseException:
                leased.end()
                raise
            runtime.preferred[dmc] = leased.rig.key
            leased.started = True
            try:
                yield leased
            finally:
                leased.end()
            return

    def _runtime_for(self, run: str | None) -> _Runtime:
        if self._runtime is None:
            # Alone (no run token), this process's leases still keep other runs off its rigs.
            self._runtime = _Runtime(RigLeases(run or secrets.token_hex(8), locks_folder()))
        return self._runtime


class LeasedRig:
    """A rig held for one scenario: the rig, its adapter, and whether it left the pool while the scenario ran."""

    def __init__(self, rig: Rig, lease: Lease, inner: RemoteAdapter, log: Callable[[str], None]) -> None:
        self.rig = rig
        self.adapter = PooledAdapter(inner, self.stopped)
        self._lease = lease
        self._log = log
        #: The scenario began on the rig (its reset answered).
        self.started = False
        #: Why the rig left the pool during the scenario (empty: it did not).
        self.lost = ""

    def stopped(self, why: str) -> None:
        """The rig stopped answering: out of the pool for the rest of the run, one line in the log."""
        if self._lease.leave(wire.cut(why)):
            self._log(f"rig {self.rig.label()} left the pool: {self._lease.left}")
        if self.started:
            self.lost = self._lease.left

    def end(self) -> None:
        """Close the rig's adapter and let the rig go."""
        try:
            self.adapter.close()
        finally:
            self._lease.release()


class PooledAdapter(RecordingAdapter):
    """The recording adapter of a leased rig: a call the rig does not answer (down, or any timeout) is reported.

    ``stopped(why)`` is told before the error goes on to end the scenario as ``error``; a device
    fault the rig reports in protocol (a refused command, a device error) leaves the rig in the pool.
    """

    def __init__(self, inner: RemoteAdapter, stopped: Callable[[str], None]) -> None:
        super().__init__(inner)
        self._stopped = stopped

    def _watch(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except (RigDown, DeviceTimeout) as exc:  # the watchdog's timeout too: the rig is hung, not slow
            self._stopped(str(exc))
            raise

    def reset(self) -> None:
        """Reset the rig's devices."""
        self._watch(super().reset)

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        """Execute on the rig (bounded in time) and record."""
        reply: DeviceReply = self._watch(lambda: RecordingAdapter.execute(self, command, timeout_s))
        return reply

    def snapshot(self) -> dict[str, Any]:
        """The rig's snapshot."""
        found: dict[str, Any] = self._watch(super().snapshot)
        return found

    def devices(self) -> list[DeviceInfo]:
        """The rig's devices."""
        listed: list[DeviceInfo] = self._watch(super().devices)
        return listed


def _check_estate(adapter: PooledAdapter, dmc: str) -> None:
    """The rig holds ``dmc``'s meter model (checked once per rig and process); DeviceError if not."""
    meter = find_dmc(dmc).meter.id
    models = {info.device_model for info in adapter.devices()}
    if meter not in models:
        raise DeviceError(f"it holds {', '.join(sorted(models)) or 'no device'}, not {meter} (DMC {dmc})")


def _none_left(dmc: str, left: list[tuple[Rig, str]]) -> str:
    """The reason of a scenario ``not run`` because every rig of its DMC left the pool."""
    whys = "; ".join(f"{rig.name}: {wire.cut(why, WHY_CHARS)}" for rig, why in left)
    return f"no rig left: every rig of DMC {dmc} left the pool ({whys})"


# --- the pool of a run, from its options ---------------------------------------------------


def load_pool(path: Path, option: str = "--pool") -> RigPool:
    """The pool file ``path``; InputError or ConfigError (one line naming the file and the rig) when it is wrong."""
    where = f"{option} {path}"
    table = read_toml_file(
        path,
        where,
        MAX_POOL_BYTES,
        kind="name a TOML file of [[rig]] tables",
        too_big="a pool file lists rigs, a few lines each",
        shape="write [[rig]] tables of url and dmc",
    )
    unknown = sorted(set(table) - set(FILE_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key '{wire.cut(unknown[0], 40)}'", where, f"the file's keys are {', '.join(FILE_KEYS)}"
        )
    raw_rigs = table.get("rig")
    if not isinstance(raw_rigs, list) or not raw_rigs:
        raise ConfigError("names no rig", where, 'add [[rig]] tables, each with url = "http://..." and dmc = "..."')
    if len(raw_rigs) > MAX_RIGS:
        raise ConfigError(f"names {len(raw_rigs)} rigs, over the {MAX_RIGS} allowed", where)
    rigs = [_rig(raw, index, where) for index, raw in enumerate(raw_rigs, start=1)]
    _refuse_doubles(rigs, where)
    return RigPool(tuple(rigs), where, _wait(table.get("wait_s", DEFAULT_WAIT_S), where))


def _rig(raw: object, index: int, file_where: str) -> Rig:
    """The ``index``-th ``[[rig]]`` table, checked."""
    where = f"{file_where}: rig {index}"
    if not isinstance(raw, dict):
        raise ConfigError("is not a table", where, 'write it as [[rig]] with url = "..." and dmc = "..."')
    unknown = sorted(set(raw) - set(RIG_KEYS))
    if unknown:
        raise ConfigError(f"unknown key '{wire.cut(unknown[0], 40)}'", where, f"a rig's keys are {', '.join(RIG_KEYS)}")
    text: dict[str, str] = {}
    for key in RIG_KEYS:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{key} is {type(value).__name__}, not text", where, f'write {key} = "..."')
        if value is not None:
            text[key] = value
    for key in ("url", "dmc"):
        if not text.get(key):
            raise ConfigError(f"has no {key}", where, f'add {key} = "..."')
    name = text.get("name", f"rig-{index}")
    if not name or len(name) > MAX_NAME or not name.isprintable() or name != name.strip():
        raise ConfigError(
            f"name {wire.cut(repr(name), 80)} is not 1 to {MAX_NAME} printable characters", where, "give a short name"
        )
    where = f"{file_where}: rig {index} ({name})"
    try:
        url = check_url(text["url"])
        find_dmc(text["dmc"])
    except ConfigError as exc:
        raise ConfigError(exc.what, where, exc.fix) from None
    token = text.get("token")
    if token is not None:
        try:
            wire.check_token(token)
        except wire.WireError as exc:
            raise ConfigError(str(exc), where, "make one with: openssl rand -hex 24") from None
    return Rig(name, url, text["dmc"], token)


def _refuse_doubles(rigs: list[Rig], where: str) -> None:
    """Two rigs may share neither an endpoint (one estate would be leased twice at once) nor a name."""
    names: dict[str, Rig] = {}
    endpoints: dict[str, Rig] = {}
    for rig in rigs:
        if rig.key in endpoints:
            first = endpoints[rig.key]
            raise ConfigError(
                f"rigs {first.name} and {rig.name} name the same endpoint ({first.url}, {rig.url})",
                where,
                "list each rig once",
            )
        if rig.name in names:
            raise ConfigError(f"two rigs are named {rig.name}", where, "give each rig its own name")
        endpoints[rig.key], names[rig.name] = rig, rig


def _wait(value: object, where: str) -> float:
    """``wait_s``: seconds, more than 0 and at most :data:`MAX_WAIT_S`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_WAIT_S:
        raise ConfigError(
            f"wait_s {wire.cut(repr(value), 40)} is not a number of seconds more than 0 and at most {MAX_WAIT_S:g}",
            where,
            "for example wait_s = 600",
        )
    return float(value)


def pool_of_urls(urls: Sequence[str], dmc: str, where: str) -> RigPool:
    """The rigs of ``--device-url`` given more than once: all of DMC ``dmc``, named rig-1, rig-2..."""
    rigs = []
    for index, url in enumerate(urls, start=1):
        try:
            rigs.append(Rig(f"rig-{index}", check_url(url), dmc))
        except ConfigError as exc:
            raise ConfigError(exc.what, where, exc.fix) from None
    _refuse_doubles(rigs, where)
    return RigPool(tuple(rigs), where)


@dataclass(frozen=True)
class RunRigs:
    """What a run's options say of its rigs: the pool (None: no pool), its DMCs, the adapter's other options."""

    pool: RigPool | None
    dmcs: list[str]
    adapter_options: list[str]


def run_rigs(
    pool_file: str | Path | None,
    adapter: str,
    adapter_options: list[str],
    dmcs: list[str],
    target: str,
    prefix: str = "--",
) -> RunRigs:
    """The run's pool, from ``--pool FILE`` or ``--device-url`` given more than once (``url=`` adapter options).

    ``dmcs`` are the DMCs given (empty: none); with a pool and none given, the run's DMCs are the
    pool's. ``target`` "duis" refuses a pool (the S1SP behind the endpoint drives a rig of its own).
    ``prefix`` is the options' (``--`` for ``s1sr run``, ``--s1sr-`` for pytest). ConfigError, one line.
    """
    pool_option = f"{prefix}pool"
    pool_where = f"{pool_option} {pool_file}"
    url_option = "--device-url" if prefix == "--" else f"{prefix}adapter-option url"
    urls = [
        value.strip() for key, sep, value in (p.partition("=") for p in adapter_options) if sep and key.strip() == "url"
    ]
    if pool_file is None and len(urls) < 2:
        return RunRigs(None, dmcs, adapter_options)
    if adapter != "remote":
        what = (
            "a pool is of rigs the remote adapter reaches"
            if pool_file is not None
            else "several device URLs make a pool"
        )
        raise ConfigError(
            f"{what}, and the adapter is {adapter}",
            pool_where if pool_file is not None else url_option,
            f"add {prefix}adapter remote",
        )
    if target == "duis":
        raise ConfigError(
            "a pool is for the S1SP in process: the S1SP behind a DUIS endpoint drives one rig of its own",
            pool_where if pool_file is not None else url_option,
            f"give {prefix}device-url once, the rig that S1SP drives" if prefix == "--" else "give one rig",
        )
    others = [p for p in adapter_options if p.partition("=")[0].strip() != "url"]
    if pool_file is not None:
        if urls:
            raise ConfigError(
                "the rigs are given both in the pool file and as a device URL",
                url_option,
                f"list every rig in the pool file, or leave {pool_option} out",
            )
        pool = load_pool(Path(pool_file), pool_option)
    else:
        named = list(dict.fromkeys(dmcs))
        if len(named) != 1:
            raise ConfigError(
                f"{len(urls)} device URLs make a pool of rigs of one DMC, and the run has "
                + (f"{len(named)} DMCs" if named else "no --dmc"),
                url_option,
                f"give one --dmc, or a {pool_option} file naming each rig's DMC",
            )
        pool = pool_of_urls(urls, named[0], url_option)
    for name in dmcs:
        if name not in pool.dmcs():
            raise ConfigError(
                f"no rig of the pool holds DMC {name}",
                f"--dmc {name}",
                f'add a [[rig]] with dmc = "{name}" to the pool file, or leave --dmc {name} out',
            )
    return RunRigs(pool, list(dict.fromkeys(dmcs)) or pool.dmcs(), others)
