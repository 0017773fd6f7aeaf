"""Every registered check passes (quick tier here, slow tier under -m slow): pytest, the CLI and reports
iterate the same registry (docs/design.md §7)."""
import pytest

from attnreg.verify import catalogue, registry

QUICK = catalogue.select(tiers=("quick",))
SLOW = catalogue.select(tiers=("slow",))


def _params(checks):
    """The lemma checks, and the claim checks (a claim a lemma proves verifies that lemma), run on the worker that
    verifies every lemma for tests/test_proofs*.py: verdicts are cached per process, so elsewhere each would verify
    its lemmas a second time."""
    grouped = ("lemma.", "claims.builtin.")
    return [pytest.param(c, id=c.name, marks=[pytest.mark.xdist_group("lemmas")] if c.name.startswith(grouped)
                         else []) for c in checks]


def _assert_passes(check):
    result = registry.run(check, seed=0)
    assert result.status in (registry.Status.PASS, registry.Status.SKIP), f"{result.status.value}: {result.detail}"
    if result.status is registry.Status.PASS:
        assert result.evidence in registry.EVIDENCE


@pytest.mark.parametrize("check", _params(QUICK))
def test_quick_check(check):
    _assert_passes(check)


@pytest.mark.slow
@pytest.mark.parametrize("check", _params(SLOW))
def test_slow_check(check):
    _assert_passes(check)


def test_registry_is_well_formed():
    names = [c.name for c in catalogue.select(tiers=registry.TIERS)]
    assert len(names) == len(set(names)) and len(QUICK) >= 20
    assert all(c.claim and c.evidence in registry.EVIDENCE for c in registry.REGISTRY.values())


def test_a_crashing_check_is_an_error_not_a_crash():
    def boom(*, seed):
        raise RuntimeError("broken on purpose")

    result = registry.run(registry.Check("t.boom", "nothing", "confirmed", boom), seed=0)
    assert result.status is registry.Status.ERROR and "broken on purpose" in result.detail and not result.ok


def test_duplicate_names_are_refused():
    name = catalogue.select()[0].name
    with pytest.raises(ValueError, match="registered twice"):
        registry.check(name, claim="x", evidence="confirmed")(lambda *, seed: None)
