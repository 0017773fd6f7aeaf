r"""The production path at the numerical edges (verify/edges.py), against mpmath from the definitions.

Every case of :func:`verify.edges.deterministic` (saturated rows, one-hot targets on and off the argmax,
mixed huge and small rows, logit gaps from 30 to beyond ``exp``'s overflow point, deep cancellation)
is evaluated by the production path and by the oracle of :mod:`verify.oracle`, written from the definitions
(docs/design.md §2) at a working precision chosen from the logits, so that no cancellation reaches the digits
compared. A value passes when (:mod:`verify.errormodel`)

* its relative error (∞-norm) is at most ``16·(κ + n)·u`` (:func:`verify.errormodel.allowed`), ``κ`` its
  relative condition number in the logits, and at most ``10⁻¹²`` where ``κ ≤ 10³`` (float64: 12 correct digits where
  well-conditioned);
* it is finite wherever the true value is representable, and right entry by entry: each entry's error must be
  allowed by that entry's own condition number (the ∞-norm error alone passes a zeroed, sign-flipped or doubled
  entry far below the largest one); an exact zero must come out 0; where
  some entries lie beyond the dtype's range, each of those must be ``inf`` of its sign and each representable
  entry is judged by the rule above with its own condition number (an exact-zero entry within ``16·t_i·u`` of 0,
  ``t_i`` its absolute sensitivity: the rule's absolute form; before, any finite value passed there).

The quick tier runs one case per edge class; ``--slow`` runs every class at every gap and magnitude
and a seeded sample over the parameters that the Hypothesis strategy :func:`verify.edges.strategy`
explores in the tests.
"""
from __future__ import annotations

import importlib.util
import math

import numpy as np

import attnreg

from .. import edges, errormodel, oracle
from ..tolerances import tol
from ..registry import Result, Status, check

QUANTITIES = ("loss", "grad", "hvp")


def _production(case, quantity, version, dtype, dS):
    A1, A2, B, X = case.matrix(dtype)
    with np.errstate(over="ignore"):  # overflow to inf is the right answer beyond the dtype's range
        if quantity == "loss":
            return attnreg.loss(A1, A2, B, X, version=version)
        if quantity == "grad":
            return attnreg.grad(A1, A2, B, X, version=version)
        return attnreg.hvp(A1, A2, B, X, dS.astype(dtype), version=version)


def judge(case, quantity, version, dtype=np.float64):
    """``(ratio, note)``: error / allowed (≤ 1 passes) for one case and quantity."""
    case = edges.EdgeCase(case.S.astype(dtype).astype(np.float64), case.B.astype(dtype).astype(np.float64),
                          case.label, case.params)  # the oracle's inputs are the dtype's rounded values
    ctx = oracle.context(case.S)
    dS = np.random.default_rng(case.params.get("seed", 0)).standard_normal(case.S.shape)
    q = oracle.quantity(ctx, quantity, version, dS)
    exact = q(oracle.mp_rows(ctx, case.S), oracle.mp_rows(ctx, case.B))
    size = max(abs(v) for v in exact)
    info = np.finfo(dtype)
    value = np.asarray(_production(case, quantity, version, dtype, dS), dtype=np.float64).ravel().tolist()
    if size > float(info.max):
        return _beyond_range(q, case, value, exact, info, ctx)
    if size == 0:  # an exact zero (e.g. B = f): nothing to be relative to, so it must come out as 0
        return (0.0 if all(v == 0 for v in value) else math.inf), f"exact zero, got max |v| {max(map(abs, value)):.3g}"
    if not all(math.isfinite(v) for v in value):
        return math.inf, f"non-finite {quantity} where the true value {float(size):.3g} is representable"
    err = float(max(abs(ctx.mpf(v) - e) for v, e in zip(value, exact)) / size)
    if size and size < float(info.smallest_normal) * 1e3:  # gradual underflow: only absolute accuracy
        return (0.0 if err * float(size) <= 4 * float(info.smallest_normal) else math.inf), "subnormal"
    _, t = errormodel.sensitivities(q, case.S.tolist(), case.B.tolist(), ctx)
    kappa = float(max(t) / size)  # errormodel.condition
    u, n = float(info.eps) / 2, case.S.shape[1]
    ratio = err / errormodel.allowed(kappa, n, u) if err else 0.0
    # Entry by entry as well: the ∞-norm error above passes any error in an entry far below the largest one (a
    # zero, a flipped sign, a factor 2 in place of an entry ~1e-37 beside ~0.06). Each entry is held to its own
    # condition number, as past the range (:func:`_entrywise`).
    ratio = max(ratio, _entrywise(value, exact, t, info, n, ctx))
    return ratio, f"err {err:.2g}, κ {kappa:.3g}"


def _entrywise(value, exact, t, info, n, ctx):
    """The worst error / allowed over the entries, each judged with its own condition number ``t_i/|e_i|``
    (``t_i`` its absolute sensitivity to the logits): a nonzero entry's relative error at most
    :func:`errormodel.allowed`, an exact-zero entry within ``16·t_i·u`` of 0 (the rule's absolute form, so 0
    where ``t_i = 0``). Errors within ``4·smallest_normal`` are gradual underflow and pass (absolute accuracy)."""
    u, floor, worst = float(info.eps) / 2, 4 * float(info.smallest_normal), 0.0
    for v, e, ti in zip(value, exact, t):
        err = abs(ctx.mpf(v) - e)
        if err <= floor:
            continue
        if e != 0:
            worst = max(worst, float(err / abs(e)) / errormodel.allowed(float(ti / abs(e)), n, u))
        else:
            room = tol("vs_condition").factor * float(ti) * u
            worst = max(worst, float(err) / room if room else math.inf)
    return worst


def _beyond_range(q, case, value, exact, info, ctx):
    """The true value has entries beyond the dtype's range: each such entry must be ``inf`` of its sign; each
    representable entry is judged on its own, relative error at most :func:`errormodel.allowed` of its own
    condition number. An exact zero entry has no relative error: its error ``|v|`` is allowed what the same rule
    allows in absolute terms, ``16·t_i·u`` with ``t_i = Σ|∂q_i/∂S_jk||S_jk|`` (so ``v = 0`` where ``t_i = 0``)."""
    top = float(info.max)
    _, t = errormodel.sensitivities(q, case.S.tolist(), case.B.tolist(), ctx)
    worst = 0.0
    for v, e, ti in zip(value, exact, t):
        if abs(e) > top:
            if not (math.isinf(v) and (v > 0) == (e > 0)):
                return math.inf, f"an entry beyond the range ({float(e):.3g}) came out {v}"
        elif not math.isfinite(v):
            return math.inf, f"a representable entry ({float(e):.3g}) came out {v}"
        elif e != 0:
            kappa = float(ti / abs(e))
            err = float(abs(ctx.mpf(v) - e) / abs(e))
            worst = max(worst, err / errormodel.allowed(kappa, case.S.shape[1], float(info.eps) / 2))
        elif v != 0:
            room = tol("vs_condition").factor * float(ti) * float(info.eps) / 2
            worst = max(worst, abs(v) / room if room else math.inf)
    return worst, "beyond the dtype's range: overflowed entries inf of their sign, the others judged one by one"


def _run(cases, quantity, version, dtype=np.float64):
    worst, where = 0.0, "no case"
    for case in cases:
        ratio, note = judge(case, quantity, version, dtype)
        if not ratio <= worst:  # also catches nan
            worst, where = ratio, f"{case.label}: {note}"
    return Result.of(worst <= 1.0, measured=worst, bound=1.0,
                     detail=f"{len(cases)} edge cases, worst error/allowed at {where}")


def _sample(count, seed, dtype=np.float64):
    """A seeded sample over the parameters of :func:`verify.edges.strategy`."""
    rng = np.random.default_rng(seed)
    o = edges.overflow_point(dtype)
    return [edges.make(str(rng.choice(edges.KINDS)), int(rng.integers(2, 5)),
                       float(rng.choice(edges.gaps(dtype))), float(rng.uniform(-1.5 * o, 1.5 * o)),
                       int(rng.integers(2**32))) for _ in range(count)]


for _version in attnreg.VERSIONS:
    for _q in QUANTITIES:
        check(f"prod.edges.{_version}.{_q}", evidence="confirmed",
              claim=f"the float64 {_version} {_q} has 12 correct digits where κ ≤ 10³ and 16(κ+n)u elsewhere, and is "
                    f"finite wherever representable, on one case per edge class")(
            lambda *, seed, q=_q, v=_version: _run(edges.deterministic(np.float64, "quick"), q, v))
        check(f"prod.edges.{_version}.{_q}.many", tier="slow", evidence="confirmed",
              claim=f"as prod.edges.{_version}.{_q}, on every class at every gap and magnitude and a seeded sample")(
            lambda *, seed, q=_q, v=_version: _run(edges.deterministic(np.float64, "slow")
                                                   + _sample(12, seed), q, v))
    check(f"prod.edges.{_version}.float32", evidence="confirmed",
          claim=f"the float32 {_version} loss and gradient are within 16(κ+n)u on the float32 edge classes")(
        lambda *, seed, v=_version: _worst_of(
            [_run(edges.deterministic(np.float32, "quick"), q, v, np.float32) for q in ("loss", "grad")]))


def _worst_of(results):
    """The failing (else the closest to failing) of several results."""
    return max(results, key=lambda r: (not r.ok, r.measured or 0.0))


@check("prod.edges.blocks", evidence="confirmed",
       claim="h, c, log_alpha and attnreg.icl's rescaled shifted target are finite and accurate where representable, "
             "on rows past exp's overflow point (the issue's reproducers)")
def _blocks(*, seed):
    errs = []
    h = attnreg.vector.h(np.array([[800.0], [0.0]]), np.array([1.0, 0.0]), np.array([1.0]))
    errs.append(float(np.max(np.abs(h - [-1.0, 1.0]))))
    A = np.array([[1.0], [1.0]])
    for X in (-40.0, -800.0):
        Bt = attnreg.icl.shifted_target(A, A, np.full((2, 2), 0.5), np.array([[X]]), version="rescaled",
                                        X_new=np.array([[0.0]]))
        errs.append(float(np.max(np.abs(Bt - 0.5))) / 0.5)
    c = attnreg.vector.c(np.eye(2), np.array([1.0, 0.0]), np.array([0.0, -40.0]))  # f_0 − 1 = −e^{−40}/(1+e^{−40})
    exact = -math.exp(-40) / (1 + math.exp(-40))
    errs.append(abs(c[0] - exact) / abs(exact))
    la = attnreg.log_alpha(np.eye(2), np.eye(2), np.array([[0.0, -45.0], [900.0, 0.0]]))
    errs.append(max(abs(la[0] - math.exp(-45)) / math.exp(-45), abs(la[1] - 900.0) / 900.0))
    worst = max(errs) if all(map(math.isfinite, errs)) else math.inf
    return Result.of(worst <= 1e-13, measured=worst, bound=1e-13,
                     detail="relative errors of vector.h([[800],[0]]), icl shifted target at X = -40, -800, "
                            "c at a one-hot target with gap 40, log_alpha at 1 + e^-45 and 900")


def _autograd(library):
    """torch ``loss.backward()`` or ``jax.grad`` through attnreg.loss against attnreg.grad, both versions."""
    if not importlib.util.find_spec(library):
        return Result(status=Status.SKIP, detail=f"{library} is not installed")
    A1, A2, B, X = edges.make("mixed", 4, 500.0, 505.0, 3).matrix()
    errs = []
    for version in attnreg.VERSIONS:
        want = attnreg.grad(A1, A2, B, X, version=version)
        scale = float(np.max(np.abs(want)))
        if library == "torch":
            import torch  # deferred: torch, an optional dependency

            Xt = torch.asarray(X).requires_grad_(True)
            attnreg.loss(*(torch.asarray(a) for a in (A1, A2, B)), Xt, version=version).backward()
            errs.append(_rel(Xt.grad.numpy(), want, scale))
        else:
            import jax  # deferred: jax, an optional dependency

            with jax.enable_x64(True):
                J = [jax.numpy.asarray(a) for a in (A1, A2, B)]
                got = jax.grad(lambda Z: attnreg.loss(*J, Z, version=version))(jax.numpy.asarray(X))
                errs.append(_rel(np.asarray(got), want, scale))
    worst = max(errs)
    return Result.of(worst <= 1e-12, measured=worst, bound=1e-12,
                     detail=f"{library} autograd through attnreg.loss vs attnreg.grad, both versions, "
                            "max relative error")


for _library, _tier in (("torch", "quick"), ("jax", "slow")):
    check(f"prod.edges.autograd.{_library}", tier=_tier, evidence="confirmed",
          claim=f"{_library} autograd through attnreg.loss gives attnreg.grad to 1e-12 relative on shifted "
                f"rescaled rows (one row past exp's overflow point)")(lambda *, seed, lib=_library: _autograd(lib))


def _rel(got, want, scale):
    got = np.asarray(got, dtype=np.float64)
    return float(np.max(np.abs(got - want)) / scale) if np.all(np.isfinite(got)) else math.inf
