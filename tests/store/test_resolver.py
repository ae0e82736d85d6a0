"""Device install plans (SPEC §5 "Devices", seed 002): resolution, breakages and violations without a DB."""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from semantic_version import NpmSpec, Version

from store.resolver import Breakage, Candidate, DictIndex, Plan, Violation, plan_changes

A, B, C, D = "com.test.a", "com.test.b", "com.test.c", "com.test.d"


def cand(package_id, version, deps=None, code=None):
    major, minor, patch = (int(x) for x in version.split("."))
    return Candidate(
        package_id=package_id,
        version=version,
        version_code=code if code is not None else major * 10000 + minor * 100 + patch,
        dependencies=deps or {},
        title=package_id.rsplit(".", 1)[-1].upper(),
        icon_url=f"https://cdn.test/{package_id}.png",
    )


def ids(plan):
    return [(c.package_id, c.version) for c in plan.install]


def test_installing_the_top_of_a_chain_installs_its_dependencies_first():
    index = DictIndex([cand(A, "1.0.0"), cand(B, "1.0.0", {A: "^1.0.0"}), cand(C, "1.0.0", {B: "^1.0.0"})])
    plan = plan_changes(index=index, installed={}, install=[(C, None)])
    assert plan.ok
    assert ids(plan) == [(A, "1.0.0"), (B, "1.0.0"), (C, "1.0.0")]
    assert plan.breakages == []


def test_the_newest_matching_version_is_chosen():
    index = DictIndex([cand(A, "1.0.0"), cand(A, "1.4.0"), cand(A, "2.0.0"), cand(B, "1.0.0", {A: "^1.0.0"})])
    plan = plan_changes(index=index, installed={}, install=[(B, None)])
    assert ids(plan) == [(A, "1.4.0"), (B, "1.0.0")]


def test_a_diamond_installs_one_version_of_the_shared_dependency():
    index = DictIndex(
        [
            cand(A, "1.0.0"),
            cand(A, "1.5.0"),
            cand(A, "1.9.0"),
            cand(A, "2.0.0"),
            cand(B, "1.0.0", {A: ">=1.0.0 <1.6.0"}),
            cand(C, "1.0.0", {A: "^1.2.0"}),
            cand(D, "1.0.0", {B: "^1", C: "^1"}),
        ]
    )
    plan = plan_changes(index=index, installed={}, install=[(D, None)])
    assert plan.ok
    assert ids(plan) == [(A, "1.5.0"), (B, "1.0.0"), (C, "1.0.0"), (D, "1.0.0")]


def test_conflicting_ranges_are_an_incompatible_version_violation_with_a_suggestion():
    index = DictIndex(
        [
            cand(A, "1.3.0"),
            cand(A, "2.1.0"),
            cand(B, "1.0.0", {A: "^1.0.0"}),
            cand(C, "1.0.0", {A: "^2.0.0"}),
            cand(D, "1.0.0", {B: "*", C: "*"}),
        ]
    )
    plan = plan_changes(index=index, installed={}, install=[(D, None)])
    assert not plan.ok
    assert plan.install == []
    by_parent = {v.required_by: v for v in plan.violations if v.package_id == A}
    assert by_parent[B].name == "incompatible-version"
    assert by_parent[B].suggested_version == "1.3.0"
    assert by_parent[C].suggested_version == "2.1.0"
    assert by_parent[C].version_spec == "^2.0.0"
    assert all(v.message for v in plan.violations)


def test_a_dependency_cycle_resolves_and_is_ordered_deterministically():
    index = DictIndex([cand(A, "1.0.0", {B: "^1"}), cand(B, "1.0.0", {A: "^1"}), cand(C, "1.0.0", {B: "^1"})])
    first = plan_changes(index=index, installed={}, install=[(C, None)])
    second = plan_changes(index=index, installed={}, install=[(C, None)])
    assert first.ok
    assert ids(first) == ids(second) == [(A, "1.0.0"), (B, "1.0.0"), (C, "1.0.0")]


def test_a_dependency_on_an_unknown_package_is_missing():
    index = DictIndex([cand(B, "1.0.0", {"com.test.ghost": "^1"})])
    plan = plan_changes(index=index, installed={}, install=[(B, None)])
    assert [(v.package_id, v.name, v.required_by) for v in plan.violations] == [
        ("com.test.ghost", "missing", B)
    ]


def test_requesting_an_unknown_package_is_missing():
    plan = plan_changes(index=DictIndex([]), installed={}, install=[("com.test.ghost", None)])
    assert [(v.package_id, v.name, v.required_by) for v in plan.violations] == [
        ("com.test.ghost", "missing", None)
    ]


@pytest.mark.parametrize("status", ["disabled", "suspended", "pending_disable"])
def test_a_disabled_dependency_is_an_incompatible_status_violation(status):
    index = DictIndex([cand(A, "1.0.0"), cand(B, "1.0.0", {A: "^1"})], statuses={A: status})
    plan = plan_changes(index=index, installed={}, install=[(B, None)])
    assert [(v.package_id, v.name, v.status) for v in plan.violations] == [(A, "incompatible-status", status)]


def test_a_disabled_dependency_is_refused_even_when_installed():
    a = cand(A, "1.0.0")
    index = DictIndex([a, cand(B, "1.0.0", {A: "^1"})], statuses={A: "disabled"})
    plan = plan_changes(index=index, installed={A: a}, install=[(B, None)])
    assert [v.name for v in plan.violations] == ["incompatible-status"]


def test_an_unlisted_dependency_is_fine():
    index = DictIndex([cand(A, "1.0.0"), cand(B, "1.0.0", {A: "^1"})], statuses={A: "unlisted"})
    assert plan_changes(index=index, installed={}, install=[(B, None)]).ok


def test_uninstalling_breaks_dependents_transitively():
    a, b, c, d = cand(A, "1.0.0"), cand(B, "1.0.0", {A: "^1"}), cand(C, "1.0.0", {B: "^1"}), cand(D, "1.0.0")
    installed = {A: a, B: b, C: c, D: d}
    plan = plan_changes(index=DictIndex([a, b, c, d]), installed=installed, uninstall=[A])
    assert plan.ok
    assert plan.install == []
    assert [x.id for x in plan.breakages] == [B, C]
    assert plan.breakages[0] == Breakage(
        id=B,
        title="B",
        icon_url=f"https://cdn.test/{B}.png",
        reason=f"depends on {A} which would be uninstalled",
    )
    assert B in plan.breakages[1].reason
    assert plan.breakages[0].as_dict()["reason"].startswith("depends on")


def test_uninstalling_a_package_together_with_its_dependents_breaks_nothing():
    a, b = cand(A, "1.0.0"), cand(B, "1.0.0", {A: "^1"})
    plan = plan_changes(index=DictIndex([a, b]), installed={A: a, B: b}, uninstall=[A, B])
    assert plan.breakages == []


def test_the_installed_version_of_a_dependency_is_kept_when_it_satisfies():
    a1 = cand(A, "1.1.0")
    index = DictIndex([a1, cand(A, "1.9.0"), cand(B, "1.0.0", {A: "^1.0.0"})])
    plan = plan_changes(index=index, installed={A: a1}, install=[(B, None)])
    assert ids(plan) == [(B, "1.0.0")]


def test_an_installed_dependency_is_upgraded_when_it_no_longer_satisfies():
    a1 = cand(A, "1.1.0")
    index = DictIndex([a1, cand(A, "1.9.0"), cand(A, "2.0.0"), cand(B, "1.0.0", {A: "^1.5.0"})])
    plan = plan_changes(index=index, installed={A: a1}, install=[(B, None)])
    assert ids(plan) == [(A, "1.9.0"), (B, "1.0.0")]


def test_the_resolver_picks_a_version_an_installed_dependent_still_accepts():
    a1, c1 = cand(A, "1.0.0"), cand(C, "1.0.0", {A: "<1.8.0"})
    index = DictIndex([a1, cand(A, "1.5.0"), cand(A, "1.9.0"), c1, cand(B, "1.0.0", {A: "^1.2.0"})])
    plan = plan_changes(index=index, installed={A: a1, C: c1}, install=[(B, None)])
    assert plan.ok
    assert ids(plan) == [(A, "1.5.0"), (B, "1.0.0")]
    assert plan.breakages == []


def test_an_upgrade_that_an_installed_dependent_does_not_accept_breaks_it():
    a1, c1 = cand(A, "1.0.0"), cand(C, "1.0.0", {A: "^1.0.0"})
    index = DictIndex([a1, cand(A, "2.0.0"), c1, cand(B, "1.0.0", {A: "^2.0.0"}), cand(D, "1.0.0", {C: "*"})])
    installed = {A: a1, C: c1, D: index.candidates(D)[0]}
    plan = plan_changes(index=index, installed=installed, install=[(B, None)])
    assert plan.ok
    assert ids(plan) == [(A, "2.0.0"), (B, "1.0.0")]
    assert [(x.id, x.reason) for x in plan.breakages] == [
        (C, f"requires {A} ^1.0.0 but 2.0.0 would be installed"),
        (D, f"depends on {C} which would break"),
    ]


def test_an_exact_version_can_be_requested():
    index = DictIndex([cand(A, "1.0.0"), cand(A, "1.2.0"), cand(A, "1.3.0")])
    plan = plan_changes(index=index, installed={}, install=[(A, "1.2.0")])
    assert ids(plan) == [(A, "1.2.0")]


def test_a_range_can_be_requested():
    index = DictIndex([cand(A, "1.0.0"), cand(A, "1.2.0"), cand(A, "2.3.0")])
    plan = plan_changes(index=index, installed={}, install=[(A, ">=1 <2")])
    assert ids(plan) == [(A, "1.2.0")]


def test_requesting_a_version_that_does_not_exist_suggests_the_newest():
    index = DictIndex([cand(A, "1.0.0"), cand(A, "1.2.0")])
    plan = plan_changes(index=index, installed={}, install=[(A, "3.0.0")])
    [violation] = plan.violations
    assert (violation.package_id, violation.name, violation.suggested_version) == (
        A,
        "incompatible-version",
        "1.2.0",
    )
    assert violation.required_by is None
    assert violation.as_dict()["version_spec"] == "3.0.0"


def test_requesting_the_installed_version_plans_nothing():
    a = cand(A, "1.2.0")
    plan = plan_changes(index=DictIndex([a, cand(A, "1.0.0")]), installed={A: a}, install=[(A, "1.2.0")])
    assert plan.ok and plan.install == [] and plan.breakages == []


def test_installing_a_dependency_that_is_being_uninstalled_is_a_violation():
    a, b = cand(A, "1.0.0"), cand(B, "1.0.0", {A: "^1"})
    plan = plan_changes(index=DictIndex([a, b]), installed={A: a}, install=[(B, None)], uninstall=[A])
    assert [(v.package_id, v.name) for v in plan.violations] == [(A, "missing")]


def test_malformed_requests_are_value_errors():
    index = DictIndex([cand(A, "1.0.0")])
    with pytest.raises(ValueError):
        plan_changes(index=index, installed={}, install=[(f"com.test.p{i}", None) for i in range(201)])
    with pytest.raises(ValueError):
        plan_changes(index=index, installed={}, install=[(A, None)] * 150, uninstall=[B] * 51)
    with pytest.raises(ValueError):
        plan_changes(index=index, installed={}, install=[(A, "not a range!")])
    with pytest.raises(ValueError):
        plan_changes(index=index, installed={}, install=[(A, None)], uninstall=[A])


def test_an_invalid_dependency_range_is_a_violation_not_a_crash():
    index = DictIndex([cand(A, "1.0.0"), cand(B, "1.0.0", {A: "garbage!"})])
    plan = plan_changes(index=index, installed={}, install=[(B, None)])
    assert [(v.package_id, v.name, v.suggested_version) for v in plan.violations] == [
        (A, "incompatible-version", "1.0.0")
    ]


def test_running_out_of_rounds_is_a_violation():
    chain = [cand(f"com.test.p{i}", "1.0.0", {f"com.test.p{i + 1}": "^1"}) for i in range(20)]
    index = DictIndex([*chain, cand("com.test.p20", "1.0.0")])
    plan = plan_changes(index=index, installed={}, install=[("com.test.p0", None)], max_rounds=5)
    [violation] = plan.violations
    assert violation.package_id == "com.test.p0"
    assert violation.name == "incompatible-version"
    assert "too complex" in violation.message
    assert plan_changes(index=index, installed={}, install=[("com.test.p0", None)]).ok


def ring_index(width, depth):
    """Layer l{i} version v needs x{i} ^v and x{i+1} ^(v+1 mod width), and l{i+1} pins x{i+1} to its own
    version, so the layers must count up around a ring of ``depth``: satisfiable only when ``depth`` is a
    multiple of ``width``, and the conflict only shows once the whole ring is pinned."""
    candidates = [cand("com.test.root", "1.0.0", {"com.test.l0": "*"})]
    for layer in range(depth):
        for v in range(width):
            deps = {f"com.test.l{layer + 1}": "*"} if layer + 1 < depth else {}
            deps[f"com.test.x{layer}"] = f"^{v + 1}.0.0"
            deps[f"com.test.x{(layer + 1) % depth}"] = f"^{(v + 1) % width + 1}.0.0"
            candidates.append(cand(f"com.test.l{layer}", f"{v + 1}.0.0", deps))
        candidates += [cand(f"com.test.x{layer}", f"{v + 1}.0.0") for v in range(width)]
    return DictIndex(candidates)


def test_a_pathological_index_runs_out_of_rounds_quickly_instead_of_hanging():
    started = time.monotonic()
    plan = plan_changes(index=ring_index(8, 12), installed={}, install=[("com.test.root", None)])
    assert time.monotonic() - started < 10
    [violation] = plan.violations
    assert (violation.package_id, violation.name) == ("com.test.root", "incompatible-version")
    assert "too complex" in violation.message


def test_a_small_unsatisfiable_ring_is_reported_as_conflicts():
    plan = plan_changes(index=ring_index(3, 4), installed={}, install=[("com.test.root", None)])
    assert plan.violations
    assert {v.name for v in plan.violations} == {"incompatible-version"}
    assert all(v.suggested_version for v in plan.violations)


def test_a_satisfiable_ring_resolves():
    plan = plan_changes(index=ring_index(3, 6), installed={}, install=[("com.test.root", None)])
    assert plan.ok
    assert plan.install[-1].package_id == "com.test.root"


def test_plan_ok_reflects_violations():
    assert Plan().ok
    assert not Plan(violations=[Violation(A, "missing")]).ok


# ------------------------------------------------------------------------------------------------------
# Property: plan_changes always returns, and a successful plan leaves every planned package satisfied.

PACKAGES = [A, B, C, D, "com.test.e"]
RANGES = ["*", "^1.0.0", "^2.0.0", ">=1.1.0 <2.1.0", "1.0.0", "^3.0.0"]
VERSIONS = ["1.0.0", "1.1.0", "2.0.0", "2.1.0"]


@st.composite
def scenarios(draw):
    candidates = []
    for package_id in PACKAGES[: draw(st.integers(1, len(PACKAGES)))]:
        for version in draw(st.lists(st.sampled_from(VERSIONS), max_size=3, unique=True)):
            deps = draw(
                st.dictionaries(
                    st.sampled_from([*PACKAGES, "com.test.ghost"]), st.sampled_from(RANGES), max_size=3
                )
            )
            candidates.append(cand(package_id, version, deps))
    statuses = draw(st.dictionaries(st.sampled_from(PACKAGES), st.sampled_from(["published", "disabled"])))
    index = DictIndex(candidates, statuses)
    installed = {}
    for candidate in draw(st.lists(st.sampled_from(candidates), max_size=4)) if candidates else []:
        installed[candidate.package_id] = candidate
    install = draw(
        st.lists(
            st.tuples(st.sampled_from(PACKAGES), st.one_of(st.none(), st.sampled_from(RANGES))), max_size=3
        )
    )
    requested = {p for p, _ in install}
    uninstall = draw(
        st.lists(st.sampled_from([p for p in installed if p not in requested] or [A]), max_size=2)
    )
    uninstall = [p for p in uninstall if p not in requested]
    return index, installed, install, uninstall


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(min_value=1, max_value=60))
def test_plans_always_return_and_satisfy_every_planned_dependency(scenario, max_rounds):
    index, installed, install, uninstall = scenario
    started = time.monotonic()
    plan = plan_changes(
        index=index, installed=installed, install=install, uninstall=uninstall, max_rounds=max_rounds
    )
    assert time.monotonic() - started < 5
    assert isinstance(plan, Plan)
    if not plan.ok:
        assert plan.install == []
        assert all(
            v.name in {"missing", "incompatible-version", "incompatible-status"} for v in plan.violations
        )
        return
    final = {p: c for p, c in installed.items() if p not in uninstall}
    final.update({c.package_id: c for c in plan.install})
    planned_ids = [c.package_id for c in plan.install]
    assert len(planned_ids) == len(set(planned_ids))
    assert not set(planned_ids) & set(uninstall)
    for package_id, spec in install:
        assert package_id in final
        assert spec is None or Version(final[package_id].version) in NpmSpec(spec)
    for candidate in plan.install:
        for dep_id, spec in candidate.dependencies.items():
            if dep_id == candidate.package_id:
                continue
            assert dep_id in final, (candidate, dep_id)
            assert Version(final[dep_id].version) in NpmSpec(spec), (candidate, dep_id, final[dep_id])
    # Every staying installed package that the plan does not report as broken keeps its dependencies.
    broken = {x.id for x in plan.breakages}
    for package_id in final:
        if package_id in broken or package_id not in installed or package_id in planned_ids:
            continue
        for dep_id, spec in installed[package_id].dependencies.items():
            satisfied_before = dep_id in installed and Version(installed[dep_id].version) in NpmSpec(spec)
            if satisfied_before and dep_id != package_id:
                assert dep_id in final and Version(final[dep_id].version) in NpmSpec(spec), (
                    package_id,
                    dep_id,
                )
    # Dependencies come before dependents unless the two are in a dependency cycle.
    position = {p: i for i, p in enumerate(planned_ids)}
    for candidate in plan.install:
        for dep_id in candidate.dependencies:
            if dep_id in position and position[dep_id] > position[candidate.package_id]:
                assert depends_on(final, dep_id, candidate.package_id), (planned_ids, dep_id, candidate)


def depends_on(state, start, target):
    seen, stack = set(), [start]
    while stack:
        package_id = stack.pop()
        for dep_id in state[package_id].dependencies if package_id in state else ():
            if dep_id == target:
                return True
            if dep_id not in seen:
                seen.add(dep_id)
                stack.append(dep_id)
    return False


# --- optional and default dependencies, config rules (seed 002) -------------------------------------------
from store.resolver import DependencyRule, requirement_checks  # noqa: E402

OPTIONAL = DependencyRule(optional=True, default=False)
DEFAULTED = DependencyRule(optional=True, default=True)


def with_rules(candidate, **rules):
    from dataclasses import replace

    return replace(candidate, rules={{"a": A, "b": B, "c": C, "d": D}[k]: v for k, v in rules.items()})


def test_an_optional_dependency_is_installed_only_when_asked_for():
    index = DictIndex([cand(A, "1.0.0"), with_rules(cand(B, "1.0.0", {A: "^1.0.0"}), a=OPTIONAL)])
    alone = plan_changes(index=index, installed={}, install=[(B, None)])
    assert alone.ok and ids(alone) == [(B, "1.0.0")]
    asked = plan_changes(index=index, installed={}, install=[(B, None), (A, None)])
    assert asked.ok and ids(asked) == [(A, "1.0.0"), (B, "1.0.0")]


def test_an_optional_dependency_asked_for_must_still_fit_its_range():
    index = DictIndex(
        [cand(A, "1.0.0"), cand(A, "2.0.0"), with_rules(cand(B, "1.0.0", {A: "^1.0.0"}), a=OPTIONAL)]
    )
    plan = plan_changes(index=index, installed={}, install=[(B, None), (A, None)])
    assert ids(plan) == [(A, "1.0.0"), (B, "1.0.0")]
    conflict = plan_changes(index=index, installed={}, install=[(B, None), (A, "^2.0.0")])
    assert conflict.violations and {v.name for v in conflict.violations} == {"incompatible-version"}


def test_a_default_optional_dependency_is_installed_unless_declined():
    index = DictIndex([cand(A, "1.0.0"), with_rules(cand(B, "1.0.0", {A: "^1.0.0"}), a=DEFAULTED)])
    assert ids(plan_changes(index=index, installed={}, install=[(B, None)])) == [(A, "1.0.0"), (B, "1.0.0")]
    declined = plan_changes(index=index, installed={}, install=[(B, None)], decline=[A])
    assert declined.ok and ids(declined) == [(B, "1.0.0")]


def test_a_default_optional_dependency_that_cannot_be_had_is_skipped_not_a_violation():
    index = DictIndex(
        [cand(A, "1.0.0"), with_rules(cand(B, "1.0.0", {A: "^1.0.0", C: "^1"}), c=DEFAULTED)],
        statuses={C: "disabled"},
    )
    plan = plan_changes(index=index, installed={}, install=[(B, None)])
    assert plan.ok and ids(plan) == [(A, "1.0.0"), (B, "1.0.0")]


def test_an_installed_optional_dependency_is_kept_in_range():
    index = DictIndex(
        [
            cand(A, "1.0.0"),
            cand(A, "1.5.0"),
            cand(A, "2.0.0"),
            with_rules(cand(B, "1.0.0", {A: "^1.0.0"}), a=OPTIONAL),
        ]
    )
    plan = plan_changes(index=index, installed={A: cand(A, "2.0.0")}, install=[(B, None)])
    assert plan.ok
    assert ids(plan) == [(A, "1.5.0"), (B, "1.0.0")]  # the range applies once the dependency is there


def test_uninstalling_an_optional_dependency_breaks_nothing():
    a = cand(A, "1.0.0")
    b = with_rules(cand(B, "1.0.0", {A: "^1.0.0"}), a=OPTIONAL)
    c = cand(C, "1.0.0", {A: "^1.0.0"})
    plan = plan_changes(index=DictIndex([a, b, c]), installed={A: a, B: b, C: c}, uninstall=[A])
    assert [x.id for x in plan.breakages] == [C]


def test_installing_and_declining_one_package_is_a_malformed_request():
    with pytest.raises(ValueError, match="decline"):
        plan_changes(index=DictIndex([cand(A, "1.0.0")]), installed={}, install=[(A, None)], decline=[A])


def test_a_config_rule_on_an_installed_dependency_reports_what_to_change():
    rule = DependencyRule(config={"sync": True, "mode": "full"})
    index = DictIndex([cand(A, "1.0.0"), with_rules(cand(B, "1.0.0", {A: "^1.0.0"}), a=rule)])
    plan = plan_changes(
        index=index,
        installed={A: cand(A, "1.0.0")},
        install=[(B, None)],
        configs={A: {"sync": 1, "mode": "full"}},  # 1 is not true
    )
    assert not plan.ok
    (violation,) = plan.violations
    assert violation.name == "incompatible-config"
    assert (violation.package_id, violation.required_by) == (A, B)
    assert violation.rule_violations == ["sync is 1: set it to true"]
    assert violation.required_config == {"mode": "full", "sync": True}
    assert violation.auto_configurable is False
    met = plan_changes(
        index=index,
        installed={A: cand(A, "1.0.0")},
        install=[(B, None)],
        configs={A: {"sync": True, "mode": "full"}},
    )
    assert met.ok and met.violations == []


def test_a_dependency_installed_fresh_gets_the_config_to_apply_instead_of_a_violation():
    rule = DependencyRule(config={"sync": True})
    index = DictIndex([cand(A, "1.0.0"), with_rules(cand(B, "1.0.0", {A: "^1.0.0"}), a=rule)])
    plan = plan_changes(index=index, installed={}, install=[(B, None)])
    assert plan.ok
    assert plan.configure == {A: {"sync": True}}


def test_requirement_checks_name_each_kind_of_violation_for_a_device():
    rule = DependencyRule(config={"sync": True})
    top = with_rules(
        cand(D, "1.0.0", {A: "^1.0.0", B: "^2.0.0", C: "^1.0.0", "com.test.e": "^1", "com.test.f": "^1"}),
        a=rule,
        c=OPTIONAL,
    )
    index = DictIndex(
        [cand(A, "1.0.0"), cand(B, "1.0.0"), cand(B, "2.1.0"), cand(C, "1.0.0"), cand("com.test.f", "1.0.0")],
        statuses={"com.test.f": "suspended"},
    )
    installed = {A: cand(A, "1.0.0"), B: cand(B, "1.0.0")}
    checks = dict(requirement_checks(top, index=index, installed=installed, configs={A: {}}))
    assert checks[A].name == "incompatible-config" and checks[A].rule_violations == [
        "sync is not set: set it to true"
    ]
    assert (checks[B].name, checks[B].suggested_version) == ("incompatible-version", "2.1.0")
    assert checks[C] is None  # optional and not installed
    assert (checks["com.test.e"].name, checks["com.test.e"].suggested_version) == ("missing", None)
    assert (checks["com.test.f"].name, checks["com.test.f"].status) == ("incompatible-status", "suspended")
    fine = dict(
        requirement_checks(
            top, index=index, installed={**installed, B: cand(B, "2.1.0")}, configs={A: {"sync": True}}
        )
    )
    assert fine[A] is None and fine[B] is None


def test_two_packages_requiring_different_values_of_a_fresh_dependencys_setting_conflict():
    index = DictIndex(
        [
            cand(A, "1.0.0"),
            with_rules(cand(B, "1.0.0", {A: "^1"}), a=DependencyRule(config={"mode": "full", "x": 1})),
            with_rules(cand(C, "1.0.0", {A: "^1"}), a=DependencyRule(config={"mode": "lite", "x": 1})),
        ]
    )
    plan = plan_changes(index=index, installed={}, install=[(B, None), (C, None)])
    assert not plan.ok
    (violation,) = plan.violations
    assert (violation.name, violation.package_id, violation.required_by) == ("incompatible-config", A, C)
    assert violation.rule_violations == ['mode: com.test.b requires "full", com.test.c requires "lite"']
    assert plan.configure == {A: {"mode": "full", "x": 1}}


@st.composite
def scenarios_with_rules(draw):
    """``scenarios()`` whose dependencies may be optional (with or without default) and some declined."""
    from dataclasses import replace

    index, installed, install, uninstall = draw(scenarios())
    kinds = st.sampled_from([None, OPTIONAL, DEFAULTED])

    def ruled(candidate):
        rules = {d: rule for d in sorted(candidate.dependencies) if (rule := draw(kinds)) is not None}
        return replace(candidate, rules=rules)

    ruled_index = DictIndex(
        [ruled(c) for p in PACKAGES for c in index.candidates(p)],
        {p: index.status(p) for p in PACKAGES if index.status(p) is not None},
    )
    # The device has the same versions as the store describes them (with their rules).
    by_version = {(c.package_id, c.version): c for p in PACKAGES for c in ruled_index.candidates(p)}
    installed = {p: by_version.get((p, c.version), c) for p, c in installed.items()}
    requested = {p for p, _ in install}
    decline = draw(st.lists(st.sampled_from([p for p in PACKAGES if p not in requested] or [A]), max_size=2))
    decline = [p for p in decline if p not in requested]
    return ruled_index, installed, install, uninstall, decline


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios_with_rules())
def test_optional_dependencies_are_in_range_when_planned_and_only_planned_when_wanted(scenario):
    index, installed, install, uninstall, decline = scenario
    plan = plan_changes(
        index=index, installed=installed, install=install, uninstall=uninstall, decline=decline
    )
    if not plan.ok:
        assert plan.install == []
        return
    final = {p: c for p, c in installed.items() if p not in uninstall}
    final.update({c.package_id: c for c in plan.install})
    requested = {p for p, _ in install}
    for candidate in plan.install:
        for dep_id, spec in candidate.dependencies.items():
            if dep_id == candidate.package_id:
                continue
            rule = candidate.rules.get(dep_id)
            if rule is None or not rule.optional:
                assert dep_id in final and Version(final[dep_id].version) in NpmSpec(spec)
            elif dep_id in final:
                assert Version(final[dep_id].version) in NpmSpec(spec), (candidate, dep_id)
    # A package nobody asked for, that is not installed, is planned only as a required or defaulted (not
    # declined) dependency of a package the device will have.
    for planned in plan.install:
        if planned.package_id in requested or planned.package_id in installed:
            continue
        assert any(
            c.package_id != planned.package_id
            and planned.package_id in c.dependencies
            and (
                planned.package_id not in c.rules
                or (c.rules[planned.package_id].default and planned.package_id not in decline)
            )
            for c in final.values()  # a requested package already installed at that version is not a step
        ), planned.package_id
