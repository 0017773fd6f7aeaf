"""The seed of a refining run: a float64 search chooses a box centre, arb proves ``||M||₂`` there, and that
fixed lower bound fixes the refine goal, so the run needs few rounds (``verify/certify/estimate.py``)."""
import dataclasses
from fractions import Fraction
from pathlib import Path

import flint
import numpy as np
import pytest

from attnreg.verify.certify import bnb, enclose, estimate, spec, specnorm
from attnreg.verify.certify import problem as P
from attnreg.verify.certify.confirm import norm_at

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
B = [["0.2", "0.5", "0.3"], ["0.1", "0", "0.9"], ["0.3", "0.3", "0.4"]]
CASES = [("certify-f.toml", "f", None), ("certify-grad.toml", "grad", "normalized"),
         ("certify-grad.toml", "grad", "rescaled"), ("certify-matrix-f.toml", "f", None),
         ("certify-matrix-f.toml", "grad", "normalized"), ("certify-matrix-f.toml", "grad", "rescaled")]


def _problem(name, quantity, version):
    prob = spec.load(EXAMPLES / name).problem()
    data = dict(prob["data"], B=B) if prob["form"] == "matrix" and quantity == "grad" else prob["data"]
    return dict(prob, quantity=quantity, version=version, data=data)


@pytest.mark.parametrize("name,quantity,version", CASES)
def test_float64_norms_agree_with_the_arb_matrix(name, quantity, version):
    """The NumPy ``M`` is the one :mod:`.enclose` encloses: ``||M(x)||₂`` at random points agrees with the arb
    point value (a Rayleigh-quotient lower bound, tight at a thin point) to float64 accuracy."""
    prob = _problem(name, quantity, version)
    rows, fn = P.rows(prob), enclose.formula(quantity, version)
    x = np.random.default_rng(7).uniform(-0.5, 0.5, size=(6, len(prob["domain"]["center"])))
    for xi, got in zip(x, estimate.norms(prob, x)):
        want = float(specnorm.point_norm_lower(enclose.point(fn, rows, [flint.arb(float(t)) for t in xi]))[0])
        assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name,quantity,version", CASES)
def test_the_seed_is_a_proved_lower_bound_at_a_box_centre(name, quantity, version):
    """The seed's value is below ``||M||₂`` at its point computed at 50 digits by the mpmath reference, the
    point is the box's exact centre, and it is at least the float64 value at every centre of the 4^p level-2 boxes."""
    prob = _problem(name, quantity, version)
    value, box = bnb.seed(prob)
    point = P.centre_text(prob, box)
    r = Fraction(prob["domain"]["radius"])
    assert [Fraction(v) for v in point] == [Fraction(c) + r * P.t_mid_half(i, lvl)[0]
                                            for c, (i, lvl) in zip(prob["domain"]["center"], box)]
    exact, _ = norm_at(prob, point, dps=50)
    assert Fraction(value) <= Fraction(str(exact)) < Fraction(value) * (1 + Fraction(1, 10 ** 9))
    p = len(box)
    level2 = np.array(np.meshgrid(*[np.arange(4)] * p, indexing="ij")).reshape(p, -1).T
    c, rad = np.array([float(v) for v in prob["domain"]["center"]]), float(prob["domain"]["radius"])
    assert float(value) >= estimate.norms(prob, c + rad * (-1 + (2 * level2 + 1) / 4)).max() * (1 - 1e-12)


def test_the_seed_fixes_the_refine_goal_on_the_examples(monkeypatch):
    """On the two refined examples no box centre beats the seed, so every round has the same goal and the
    tree is finished by the first large round: five rounds after the root (2, 4, 8, 16 tasks, then what is
    left); before the seed the goal rose during the run (eight rounds)."""
    seen, real = [], bnb._map

    def spy(pool, prob, rnd, tasks, cpu):
        seen.append(rnd[2])
        return real(pool, prob, rnd, tasks, cpu)

    monkeypatch.setattr(bnb, "_map", spy)
    for name in ("certify-f.toml", "certify-grad.toml"):
        seen.clear()
        s = spec.load(EXAMPLES / name)
        body = bnb.run(s)
        seed, box = bnb.seed(s.problem())
        assert body["lower_bound"]["value"] == seed and body["lower_bound"]["box"] == [list(c) for c in box]
        assert len(seen) <= 6 and set(seen[1:]) == {seed}, seen


def test_without_refine_to_there_is_no_seed(monkeypatch):
    """The seed only sets the refine goal: a run without ``refine_to`` does not pay for it."""
    monkeypatch.setattr(bnb, "seed", lambda prob: pytest.fail("seed called without refine_to"))
    s = dataclasses.replace(spec.load(EXAMPLES / "certify-f.toml"), refine_to=None)
    assert bnb.run(s)["status"] == "certified"


def test_points_taken_in_batches_give_the_same_norms(monkeypatch):
    """Large data: the points go through in batches (memory); the values are the ones of one batch."""
    prob = _problem("certify-matrix-f.toml", "grad", "normalized")
    x = np.random.default_rng(3).uniform(-0.5, 0.5, size=(37, 4))
    whole = estimate.norms(prob, x)
    monkeypatch.setattr(estimate, "CHUNK", 200)  # A has 3·3·4 = 36 entries: batches of 5 points
    assert np.array_equal(estimate.norms(prob, x), whole)


def test_many_parameters_use_a_fixed_set_of_centres():
    """Above 8 parameters the first look is 256 pseudo-random level-1 centres from a fixed seed: the same box
    every time."""
    rng = np.random.default_rng(5)
    A1, A2 = rng.normal(size=(3, 3)).round(3), rng.normal(size=(3, 3)).round(3)
    prob = dict(quantity="f", form="matrix", version=None, data=dict(A1=[[str(v) for v in r] for r in A1],
                A2=[[str(v) for v in r] for r in A2]), domain=dict(center=["0"] * 9, radius="0.5", norm="inf"),
                target="1", precision_bits=128)
    box = estimate.best_box(prob)
    assert box == estimate.best_box(prob) and len(box) == 9 and {lvl for _, lvl in box} == {1}
