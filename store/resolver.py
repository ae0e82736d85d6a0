"""Dependency resolution for device install plans (SPEC §5 "Devices", seed 002).

Pure Python, no Django: a caller (``store`` services) builds an :class:`Index` over published, non-yanked,
compatible versions and the device's installed set, then calls :func:`plan_changes`, which never raises for
resolution problems — they come back as :class:`Violation` rows — and raises ``ValueError`` only for a
malformed request (too many items, an unparsable requested version spec, a package both installed and
uninstalled), which the caller turns into a 400.

Decisions worth knowing:

* Version matching uses ``semantic_version``: candidate versions are strict semver, ranges are npm ranges
  (``NpmSpec``; an exact version such as ``"1.2.0"`` is an npm range too). A candidate whose version does
  not parse is ignored; a dependency range that does not parse matches nothing (so it surfaces as an
  ``incompatible-version`` violation instead of silently matching everything).
* Explicitly requested packages prefer the newest matching version (an install request of an installed
  package is an upgrade request). Dependencies prefer the already-installed version whenever it satisfies
  every requirement, then the newest. The installed version of a dependency is usable even when it is no
  longer in the index (e.g. yanked), because it is already on the device.
* Packages whose app status is in :data:`BLOCKED_STATUSES` offer no candidate at all (not even an installed
  one) and produce ``incompatible-status``.
* Installed packages that stay and are not re-requested constrain the resolution: a first pass only accepts
  versions that their dependency ranges accept. If that is impossible, a second pass resolves without those
  constraints and the installed dependents whose ranges end up unsatisfied are reported as breakages.
* ``suggested_version`` of an ``incompatible-version`` violation is the newest version in the index that
  satisfies that requirement's range on its own (ignoring the other requirements it conflicts with), or,
  when none does, the newest version in the index. The index is already filtered for compatibility, so
  "exists" means "installable on this device".
* ``missing`` covers an unknown package, a known package with no installable version at all (nothing to
  suggest), and a dependency on a package that the same plan uninstalls.
* ``ResolutionTooDeep`` (more than ``max_rounds`` rounds) gives one ``incompatible-version`` violation on
  the first requested package, saying the resolution was too complex. A second pass is only attempted after
  ``ResolutionImpossible``, so the work is bounded by ``2 * max_rounds`` rounds.
* A package's dependency on itself is ignored.
* Optional dependencies (:class:`DependencyRule`, the manifest's object form) are resolved only when the
  plan asks for them (they are in ``install``), when they are already installed and stay, or when their
  ``default`` is true, they are not in ``decline`` and the index has a version of them at all (a default is
  a suggestion: an optional dependency that cannot be had is skipped, not a violation). Whenever one is
  resolved, its range applies. Uninstalling an optional dependency breaks nothing.
* ``incompatible-config``: a dependency rule may require configuration values of the dependency. They are
  checked against the configuration the device reported (``configs``) for every dependency that is already
  installed and required by a package this plan resolves; a dependency the plan installs fresh has no
  configuration yet, so its step carries the values to apply instead (``Plan.configure``); two packages
  requiring different values of one setting of it is an ``incompatible-config`` violation.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Protocol

from resolvelib import AbstractProvider, BaseReporter, Resolver
from resolvelib.resolvers import ResolutionError, ResolutionImpossible
from semantic_version import NpmSpec, Version

MAX_REQUESTED_ITEMS = 200
DEFAULT_MAX_ROUNDS = 200

BLOCKED_STATUSES = frozenset({"disabled", "suspended", "pending_disable"})

VIOLATION_MISSING = "missing"
VIOLATION_INCOMPATIBLE_VERSION = "incompatible-version"
VIOLATION_INCOMPATIBLE_STATUS = "incompatible-status"
VIOLATION_INCOMPATIBLE_CONFIG = "incompatible-config"


@dataclass(frozen=True)
class DependencyRule:
    """How a version depends on one package beyond its range (the manifest's object form)."""

    optional: bool = False
    default: bool = True  # an optional dependency installed unless declined; always true for a required one
    description: str = ""
    config: Mapping[str, object] = field(default_factory=dict, hash=False)


REQUIRED = DependencyRule()


@dataclass(frozen=True)
class Candidate:
    """One installable (or installed) version of a package."""

    package_id: str
    version: str
    version_code: int
    # Excluded from the hash so candidates stay hashable with a plain dict here; equality still compares it.
    dependencies: Mapping[str, str] = field(default_factory=dict, hash=False)
    # Rules of the dependencies that have one (optional, default, config); the others are required.
    rules: Mapping[str, DependencyRule] = field(default_factory=dict, hash=False)
    title: str = ""
    icon_url: str = ""
    min_mosis_version: str | None = None
    max_mosis_version: str | None = None


def rule_of(candidate: Candidate, dep_id: str) -> DependencyRule:
    return candidate.rules.get(dep_id, REQUIRED)


class Index(Protocol):
    def candidates(self, package_id: str) -> Sequence[Candidate]:
        """Installable versions (published, non-yanked, compatible), in any order."""
        ...

    def status(self, package_id: str) -> str | None:
        """The app's status, or None when the package is unknown."""
        ...


class DictIndex:
    """In-memory :class:`Index` for tests and small callers."""

    def __init__(self, candidates: Iterable[Candidate] = (), statuses: Mapping[str, str] | None = None):
        self._candidates: dict[str, list[Candidate]] = {}
        for candidate in candidates:
            self._candidates.setdefault(candidate.package_id, []).append(candidate)
        self._statuses: dict[str, str] = dict(statuses or {})
        for package_id in self._candidates:
            self._statuses.setdefault(package_id, "published")

    def candidates(self, package_id: str) -> Sequence[Candidate]:
        return tuple(self._candidates.get(package_id, ()))

    def status(self, package_id: str) -> str | None:
        return self._statuses.get(package_id)


@dataclass
class Violation:
    package_id: str
    name: str
    required_by: str | None = None
    version_spec: str | None = None
    suggested_version: str | None = None
    status: str | None = None
    message: str = ""
    # incompatible-config only: one sentence per unmet value, and the values to set (key -> value).
    rule_violations: list[str] | None = None
    required_config: dict | None = None
    auto_configurable: bool | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Breakage:
    id: str
    title: str
    icon_url: str
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Plan:
    install: list[Candidate] = field(default_factory=list)
    breakages: list[Breakage] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    # package_id -> config values its dependents require, for packages this plan installs fresh.
    configure: dict[str, dict] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations


# --------------------------------------------------------------------------------------------------------
# Version helpers


@lru_cache(maxsize=4096)
def _parse_version(text: str) -> Version | None:
    try:
        return Version(text)
    except (ValueError, TypeError):
        return None


@lru_cache(maxsize=4096)
def _parse_range(text: str) -> NpmSpec | None:
    try:
        return NpmSpec(text.strip() or "*")
    except (ValueError, TypeError):
        return None


def _range_matches(spec_text: str | None, version_text: str) -> bool:
    version = _parse_version(version_text)
    if version is None:
        return False
    if spec_text is None:
        return True
    spec = _parse_range(spec_text)
    return spec is not None and spec.match(version)


def _newest_first_key(candidate: Candidate) -> tuple:
    # Only called on candidates whose version parses.
    return (_parse_version(candidate.version), candidate.version_code)


def _same_version(a: Candidate, b: Candidate) -> bool:
    return _parse_version(a.version) == _parse_version(b.version)


# --------------------------------------------------------------------------------------------------------
# resolvelib provider


@dataclass(frozen=True)
class _Requirement:
    package_id: str
    spec: str | None  # None: any version
    parent: str | None  # package_id of the dependent, None for a requested item

    def matches(self, candidate: Candidate) -> bool:
        return _range_matches(self.spec, candidate.version)


class _Provider(AbstractProvider):
    def __init__(
        self,
        *,
        index: Index,
        installed: Mapping[str, Candidate],
        removed: frozenset[str],
        requested: frozenset[str],
        constraints: Mapping[str, list[tuple[str, str]]],
        declined: frozenset[str] = frozenset(),
    ):
        self.index = index
        self.installed = installed
        self.removed = removed
        self.requested = requested
        self.declined = declined
        # package_id -> [(installed dependent, range)] that every chosen version must satisfy.
        self.constraints = constraints
        self._available: dict[str, list[Candidate]] = {}

    def available(self, package_id: str) -> list[Candidate]:
        """Every usable candidate of a package (index + installed), newest first, ignoring requirements."""
        cached = self._available.get(package_id)
        if cached is not None:
            return cached
        result: list[Candidate] = []
        if package_id not in self.removed and self.index.status(package_id) not in BLOCKED_STATUSES:
            result = [c for c in self.index.candidates(package_id) if _parse_version(c.version) is not None]
            current = self.installed.get(package_id)
            if current is not None and _parse_version(current.version) is not None:
                # The installed object stands for its version so the plan can tell it is already there.
                result = [c for c in result if not _same_version(c, current)] + [current]
            result.sort(key=_newest_first_key, reverse=True)
        self._available[package_id] = result
        return result

    def identify(self, requirement_or_candidate):
        return requirement_or_candidate.package_id

    def get_preference(self, identifier, resolutions, candidates, information, backtrack_causes):
        # Requested packages first, then by id: cheap and deterministic.
        return (identifier not in self.requested, identifier)

    def find_matches(self, identifier, requirements, incompatibilities):
        reqs = list(requirements[identifier])
        bad = {(c.package_id, c.version, c.version_code) for c in incompatibilities[identifier]}
        constraints = self.constraints.get(identifier, ())
        matches = [
            c
            for c in self.available(identifier)
            if (c.package_id, c.version, c.version_code) not in bad
            and all(r.matches(c) for r in reqs)
            and all(_range_matches(spec, c.version) for _, spec in constraints)
        ]
        current = self.installed.get(identifier)
        if identifier not in self.requested and current is not None:
            # Don't upgrade a dependency needlessly: the installed version goes first when it fits.
            matches.sort(key=lambda c: c is not current)
        return matches

    def is_satisfied_by(self, requirement, candidate):
        return requirement.matches(candidate)

    def wants(self, candidate: Candidate, dep_id: str) -> bool:
        """Whether ``candidate``'s dependency ``dep_id`` is part of the resolution (see the module notes)."""
        rule = rule_of(candidate, dep_id)
        if dep_id == candidate.package_id:
            return False
        if not rule.optional or dep_id in self.requested:
            return True
        if dep_id in self.installed and dep_id not in self.removed:
            return True
        return rule.default and dep_id not in self.declined and bool(self.available(dep_id))

    def get_dependencies(self, candidate):
        return [
            _Requirement(package_id=dep_id, spec=spec, parent=candidate.package_id)
            for dep_id, spec in sorted(candidate.dependencies.items())
            if self.wants(candidate, dep_id)
        ]


# --------------------------------------------------------------------------------------------------------
# Planning


def plan_changes(
    *,
    index: Index,
    installed: Mapping[str, Candidate],
    install: Sequence[tuple[str, str | None]] = (),
    uninstall: Sequence[str] = (),
    decline: Sequence[str] = (),
    configs: Mapping[str, Mapping[str, object]] | None = None,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
) -> Plan:
    """Plan installing ``install`` and removing ``uninstall`` on a device that has ``installed``, skipping
    the default optional dependencies in ``decline``, with ``configs`` the configuration the device reported
    of its installed packages.

    Never raises for resolution problems (they are returned as violations); raises ``ValueError`` for a
    malformed request: more than :data:`MAX_REQUESTED_ITEMS` items, an unparsable requested version spec,
    or a package that is both installed and uninstalled, or both installed and declined.
    """
    install = list(install)
    uninstall = list(uninstall)
    declined = frozenset(decline)
    configs = configs or {}
    if len(install) + len(uninstall) + len(declined) > MAX_REQUESTED_ITEMS:
        raise ValueError(f"at most {MAX_REQUESTED_ITEMS} packages may be installed or uninstalled at once")
    for package_id, spec in install:
        if spec is not None and _parse_range(spec) is None:
            raise ValueError(f"invalid version spec {spec!r} for {package_id}")
    removed = frozenset(uninstall)
    requested = frozenset(package_id for package_id, _ in install)
    both = sorted(requested & removed)
    if both:
        raise ValueError(f"cannot both install and uninstall {', '.join(both)}")
    both = sorted(requested & declined)
    if both:
        raise ValueError(f"cannot both install and decline {', '.join(both)}")

    plan = Plan()
    resolved: dict[str, Candidate] = {}
    if install:
        requirements = [_Requirement(package_id=p, spec=s, parent=None) for p, s in install]
        constraints = _installed_constraints(installed=installed, removed=removed, requested=requested)
        outcome = _resolve(
            index, installed, removed, requested, declined, constraints, requirements, max_rounds
        )
        if isinstance(outcome, ResolutionImpossible) and constraints:
            # Satisfying the installed dependents too is impossible: resolve the request alone and report
            # which of them break.
            outcome = _resolve(index, installed, removed, requested, declined, {}, requirements, max_rounds)
        if isinstance(outcome, ResolutionError):
            if isinstance(outcome, ResolutionImpossible):
                plan.violations = _violations_from(outcome, index=index, installed=installed, removed=removed)
            else:  # ResolutionTooDeep, or another resolver failure: report the round limit
                plan.violations = [_too_complex_violation(install, max_rounds)]
            return plan
        resolved = outcome

    plan.install = [
        candidate
        for candidate in _dependency_order(resolved)
        if not (
            candidate.package_id in installed and _same_version(installed[candidate.package_id], candidate)
        )
    ]
    plan.breakages = _breakages(installed=installed, removed=removed, resolved=resolved)
    plan.violations, plan.configure = _config_checks(
        resolved=resolved, installed=installed, removed=removed, configs=configs
    )
    return plan


def config_rule_violations(required: Mapping[str, object], actual: Mapping[str, object]) -> list[str]:
    """One sentence per value of ``required`` that ``actual`` (a reported configuration) does not hold.

    Values compare by JSON type and value (``true`` is not ``1``)."""
    problems = []
    for key, wanted in sorted(required.items()):
        if key not in actual:
            problems.append(f"{key} is not set: set it to {json.dumps(wanted)}")
        elif type(actual[key]) is not type(wanted) or actual[key] != wanted:
            problems.append(f"{key} is {json.dumps(actual[key])}: set it to {json.dumps(wanted)}")
    return problems


def config_violation(
    dep_id: str, *, required_by: str, rule: DependencyRule, actual: Mapping[str, object]
) -> Violation | None:
    """The ``incompatible-config`` violation of ``required_by``'s rule on ``dep_id``, or None when met."""
    problems = config_rule_violations(rule.config, actual)
    if not problems:
        return None
    return Violation(
        package_id=dep_id,
        name=VIOLATION_INCOMPATIBLE_CONFIG,
        required_by=required_by,
        message=f"{required_by} needs {dep_id} configured differently: {'; '.join(problems)}",
        rule_violations=problems,
        required_config={k: rule.config[k] for k in sorted(rule.config)},
        auto_configurable=False,
    )


def _config_checks(
    *,
    resolved: Mapping[str, Candidate],
    installed: Mapping[str, Candidate],
    removed: frozenset[str],
    configs: Mapping[str, Mapping[str, object]],
) -> tuple[list[Violation], dict[str, dict]]:
    """Config rules of the packages this plan resolves, on the dependencies that will be there."""
    violations: list[Violation] = []
    configure: dict[str, dict] = {}
    required_by: dict[str, dict[str, str]] = {}  # dep -> setting -> the package that asked for it first
    for package_id, candidate in sorted(resolved.items()):
        for dep_id in sorted(candidate.rules):
            rule = candidate.rules[dep_id]
            there = dep_id in resolved or (dep_id in installed and dep_id not in removed)
            if not rule.config or not there or dep_id not in candidate.dependencies:
                continue
            if dep_id in installed:
                violation = config_violation(
                    dep_id, required_by=package_id, rule=rule, actual=configs.get(dep_id, {})
                )
                if violation is not None:
                    violations.append(violation)
            else:
                wanted = configure.setdefault(dep_id, {})
                owners = required_by.setdefault(dep_id, {})
                clashes = [
                    f"{key}: {owners[key]} requires {json.dumps(wanted[key])}, {package_id} requires "
                    f"{json.dumps(value)}"
                    for key, value in sorted(rule.config.items())
                    if key in wanted and (type(wanted[key]) is not type(value) or wanted[key] != value)
                ]
                if clashes:
                    violations.append(
                        Violation(
                            package_id=dep_id,
                            name=VIOLATION_INCOMPATIBLE_CONFIG,
                            required_by=package_id,
                            message=f"{dep_id} cannot be configured for both: {'; '.join(clashes)}",
                            rule_violations=clashes,
                            required_config={k: rule.config[k] for k in sorted(rule.config)},
                            auto_configurable=False,
                        )
                    )
                    continue
                for key, value in rule.config.items():
                    wanted.setdefault(key, value)
                    owners.setdefault(key, package_id)
    return violations, configure


def _installed_constraints(
    *, installed: Mapping[str, Candidate], removed: frozenset[str], requested: frozenset[str]
) -> dict[str, list[tuple[str, str]]]:
    constraints: dict[str, list[tuple[str, str]]] = {}
    for dependent_id, dependent in sorted(installed.items()):
        if dependent_id in removed or dependent_id in requested:
            continue
        for dep_id, spec in sorted(dependent.dependencies.items()):
            current = installed.get(dep_id)
            # A range the installed set already violates is not ours to enforce (it is not a new breakage).
            if dep_id != dependent_id and current is not None and _range_matches(spec, current.version):
                constraints.setdefault(dep_id, []).append((dependent_id, spec))
    return constraints


def _resolve(index, installed, removed, requested, declined, constraints, requirements, max_rounds):
    provider = _Provider(
        index=index,
        installed=installed,
        removed=removed,
        requested=requested,
        constraints=constraints,
        declined=declined,
    )
    try:
        result = Resolver(provider, BaseReporter()).resolve(requirements, max_rounds=max_rounds)
    except ResolutionError as exc:
        return exc
    return dict(result.mapping)


def _violations_from(
    error: ResolutionImpossible, *, index: Index, installed: Mapping[str, Candidate], removed: frozenset[str]
) -> list[Violation]:
    provider = _Provider(
        index=index, installed=installed, removed=removed, requested=frozenset(), constraints={}
    )
    violations: dict[tuple, Violation] = {}
    for cause in error.causes:
        requirement: _Requirement = cause.requirement
        package_id = requirement.package_id
        required_by = cause.parent.package_id if cause.parent is not None else requirement.parent
        key = (package_id, requirement.spec, required_by)
        if key in violations:
            continue
        violations[key] = _violation_for(
            requirement, required_by=required_by, index=index, provider=provider, removed=removed
        )
    return sorted(
        violations.values(), key=lambda v: (v.package_id, v.required_by or "", v.version_spec or "")
    )


def _violation_for(
    requirement: _Requirement, *, required_by: str | None, index: Index, provider: _Provider, removed
) -> Violation:
    package_id = requirement.package_id
    spec = requirement.spec
    wanted = f"{package_id} {spec}" if spec else package_id
    by = f" (required by {required_by})" if required_by else ""
    status = index.status(package_id)
    if package_id in removed:
        return Violation(
            package_id,
            VIOLATION_MISSING,
            required_by,
            spec,
            None,
            status,
            f"{package_id} would be uninstalled{by}",
        )
    if status in BLOCKED_STATUSES:
        return Violation(
            package_id,
            VIOLATION_INCOMPATIBLE_STATUS,
            required_by,
            spec,
            None,
            status,
            f"{package_id} is {status}{by}",
        )
    available = provider.available(package_id)
    if status is None and not available:
        return Violation(
            package_id, VIOLATION_MISSING, required_by, spec, None, None, f"{package_id} does not exist{by}"
        )
    if not available:
        return Violation(
            package_id,
            VIOLATION_MISSING,
            required_by,
            spec,
            None,
            status,
            f"{package_id} has no installable version{by}",
        )
    fitting = [c for c in available if requirement.matches(c)]
    suggested = (fitting or available)[0].version
    if spec is not None and _parse_range(spec) is None:
        message = f"{package_id} has an invalid version range {spec!r}{by}"
    elif fitting:
        message = f"{wanted} conflicts with another requirement{by}"
    else:
        message = f"no installable version of {package_id} matches {spec}{by}"
    return Violation(
        package_id, VIOLATION_INCOMPATIBLE_VERSION, required_by, spec, suggested, status, message
    )


def requirement_checks(
    candidate: Candidate,
    *,
    index: Index,
    installed: Mapping[str, Candidate],
    configs: Mapping[str, Mapping[str, object]] | None = None,
) -> list[tuple[str, Violation | None]]:
    """Each dependency of ``candidate`` (by package id) with what stands in the way of it on a device that
    has ``installed`` (configured as ``configs``), seed 002's ``violation``, or None when nothing does:

    * ``incompatible-status``: the dependency's app is disabled, suspended or pending disable;
    * ``missing``: a required dependency that is not installed (``suggested_version``: the newest installable
      version in range; None when the store has none); an optional one that is not installed is no violation;
    * ``incompatible-version``: the installed version is out of range (suggested: the newest in range);
    * ``incompatible-config``: the installed dependency's configuration lacks what the rule requires.
    """
    configs = configs or {}
    provider = _Provider(
        index=index, installed={}, removed=frozenset(), requested=frozenset(), constraints={}
    )
    checks: list[tuple[str, Violation | None]] = []
    for dep_id, spec in sorted(candidate.dependencies.items()):
        if dep_id == candidate.package_id:
            continue
        rule = rule_of(candidate, dep_id)
        current = installed.get(dep_id)
        status = index.status(dep_id)
        requirement = _Requirement(package_id=dep_id, spec=spec, parent=candidate.package_id)
        fitting = [c for c in provider.available(dep_id) if requirement.matches(c)]
        suggested = fitting[0].version if fitting else None
        violation = None
        if current is None and rule.optional:
            violation = None
        elif status in BLOCKED_STATUSES:
            violation = Violation(
                dep_id,
                VIOLATION_INCOMPATIBLE_STATUS,
                candidate.package_id,
                spec,
                None,
                status,
                f"{dep_id} is {status}",
            )
        elif current is None:
            message = f"{dep_id} {spec} is not installed" + ("" if fitting else " and none can be")
            violation = Violation(
                dep_id, VIOLATION_MISSING, candidate.package_id, spec, suggested, status, message
            )
        elif not requirement.matches(current):
            violation = Violation(
                dep_id,
                VIOLATION_INCOMPATIBLE_VERSION,
                candidate.package_id,
                spec,
                suggested,
                status,
                f"{dep_id} {current.version} is installed but {spec} is required",
            )
        elif rule.config:
            violation = config_violation(
                dep_id, required_by=candidate.package_id, rule=rule, actual=configs.get(dep_id, {})
            )
        checks.append((dep_id, violation))
    return checks


def _too_complex_violation(install: list[tuple[str, str | None]], max_rounds: int) -> Violation:
    package_id, spec = install[0]
    return Violation(
        package_id=package_id,
        name=VIOLATION_INCOMPATIBLE_VERSION,
        version_spec=spec,
        message=f"the resolution was too complex (gave up after {max_rounds} rounds)",
    )


def _dependency_order(resolved: Mapping[str, Candidate]) -> list[Candidate]:
    """Topological order, dependencies first, ties by package_id; a cycle is broken at its smallest id."""
    remaining: dict[str, set[str]] = {
        package_id: {d for d in candidate.dependencies if d in resolved and d != package_id}
        for package_id, candidate in resolved.items()
    }
    dependents: dict[str, set[str]] = {package_id: set() for package_id in resolved}
    for package_id, deps in remaining.items():
        for dep in deps:
            dependents[dep].add(package_id)
    ready = [package_id for package_id, deps in remaining.items() if not deps]
    heapq.heapify(ready)
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(resolved):
        if not ready:
            # Every remaining package waits on another: break the cycle deterministically.
            heapq.heappush(ready, min(p for p in resolved if p not in done))
        package_id = heapq.heappop(ready)
        if package_id in done:
            continue
        done.add(package_id)
        order.append(package_id)
        for dependent in sorted(dependents[package_id]):
            deps = remaining[dependent]
            deps.discard(package_id)
            if not deps and dependent not in done:
                heapq.heappush(ready, dependent)
    return [resolved[package_id] for package_id in order]


def _breakages(
    *, installed: Mapping[str, Candidate], removed: frozenset[str], resolved: Mapping[str, Candidate]
) -> list[Breakage]:
    """Installed packages that stay but whose dependencies were satisfied before and no longer are,
    plus (transitively) those that depend on a broken package."""
    after: dict[str, Candidate] = {p: c for p, c in installed.items() if p not in removed}
    after.update(resolved)
    # Packages in ``resolved`` have every dependency satisfied by the resolution itself.
    staying = sorted(p for p in after if p not in resolved)
    reasons: dict[str, str] = {}
    for package_id in staying:
        for dep_id, spec in sorted(installed[package_id].dependencies.items()):
            before = installed.get(dep_id)
            if dep_id == package_id or before is None or not _range_matches(spec, before.version):
                continue
            now = after.get(dep_id)
            if now is None and rule_of(installed[package_id], dep_id).optional:
                continue  # it works without an optional dependency
            if now is None:
                reasons[package_id] = f"depends on {dep_id} which would be uninstalled"
                break
            if not _range_matches(spec, now.version):
                reasons[package_id] = f"requires {dep_id} {spec} but {now.version} would be installed"
                break
    changed = True
    while changed:
        changed = False
        for package_id in staying:
            if package_id in reasons:
                continue
            dependent = installed[package_id]
            broken = sorted(
                d
                for d in dependent.dependencies
                if d in reasons and d != package_id and not rule_of(dependent, d).optional
            )
            if broken:
                reasons[package_id] = f"depends on {broken[0]} which would break"
                changed = True
    return [
        Breakage(id=p, title=installed[p].title, icon_url=installed[p].icon_url, reason=reasons[p])
        for p in sorted(reasons)
    ]


__all__ = [
    "BLOCKED_STATUSES",
    "REQUIRED",
    "Breakage",
    "Candidate",
    "DependencyRule",
    "DictIndex",
    "Index",
    "Plan",
    "Violation",
    "config_rule_violations",
    "config_violation",
    "plan_changes",
    "requirement_checks",
    "rule_of",
]
