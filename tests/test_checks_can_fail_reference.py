"""The reference edge checks catch the defects of the old reference (mutation tests, as test_checks_can_fail).

The old public reference evaluated the mpmath formulas of ``reference.forms`` and stopped when two runs
at increasing precision agreed (``reference._inputs.run``, still there as the mpmath path); its
``icl.shifted_target`` combined 60-digit blocks. Both are put back here and the checks must fail.
"""
import mpmath
import numpy as np

from attnreg import reference
from attnreg.reference import Certified, forms
from attnreg.reference._inputs import matrix_inputs, run, vector_inputs
from attnreg.reference.context import to_matrix
from attnreg.verify import catalogue, registry


def _status(name):
    (check,) = [c for c in catalogue.select(name) if c.name == name]
    return registry.run(check, seed=0)


def _old(fn, convert, with_version=True):
    """An old public function: two runs agreeing, and a claim of dps digits (radius 0, nothing unresolved)."""
    def public(*args, version=None, dps=50, record=False):
        value = run(fn, convert, args, dps, version) if with_version else run(fn, convert, args, dps)
        return Certified(value, 0 * value if not isinstance(value, tuple) else value, (), dps, dps) \
            if record else value
    return public


OLD_MATRIX = dict(loss=_old(forms.matrix_loss, matrix_inputs),
                  grad=_old(lambda ctx, *a: forms.matrix_loss_and_grad(ctx, *a)[1], matrix_inputs),
                  hvp=_old(forms.matrix_hvp, matrix_inputs), hessian=_old(forms.matrix_hessian, matrix_inputs))
OLD_VECTOR = dict(loss=_old(forms.vector_loss, vector_inputs),
                  grad=_old(lambda ctx, *a: forms.vector_loss_and_grad(ctx, *a)[1], vector_inputs),
                  hvp=_old(forms.vector_hvp, vector_inputs), hessian=_old(forms.vector_hessian, vector_inputs))


def old_shifted_target(A1, A2, B, X, *, version, A1_new=None, A2_new=None, X_new=None, dps=50):
    """The old construction: the reference's blocks at dps + 10 digits, combined at dps + 10 digits."""
    A1n = A1 if A1_new is None else A1_new
    A2n = A2 if A2_new is None else A2_new
    Xn = X if X_new is None else X_new
    ctx = reference.make_context(dps + 10)
    B = to_matrix(ctx, "B", B, (None, None))
    n = len(B)
    old_f = _old(lambda ctx, A1, A2, B, X: forms.matrix_blocks(ctx, A1, A2, X, B)["f"], matrix_inputs, False)
    old_u = _old(lambda ctx, A1, A2, B, X: forms.matrix_blocks(ctx, A1, A2, X, B)["u"], matrix_inputs, False)
    old_a = _old(lambda ctx, A1, A2, B, X: forms.matrix_blocks(ctx, A1, A2, X, B)["alpha"], matrix_inputs, False)
    if version == "normalized":
        F, Fn = old_f(A1, A2, None, X, dps=dps + 10), old_f(A1n, A2n, None, Xn, dps=dps + 10)
        out = [[B[j][k] + ctx.mpf(F[j, k]) - ctx.mpf(Fn[j, k]) for k in range(n)] for j in range(n)]
    else:
        U, Un = old_u(A1, A2, None, X, dps=dps + 10), old_u(A1n, A2n, None, Xn, dps=dps + 10)
        a, an = old_a(A1, A2, None, X, dps=dps + 10), old_a(A1n, A2n, None, Xn, dps=dps + 10)
        out = [[(ctx.mpf(U[j, k]) - ctx.mpf(Un[j, k]) + ctx.mpf(an[j]) * B[j][k]) / ctx.mpf(a[j]) for k in range(n)]
               for j in range(n)]
    return ctx.matrix(out)


def test_the_old_two_runs_reference_fails_the_edge_check(monkeypatch):
    for name, fn in OLD_MATRIX.items():
        monkeypatch.setattr(reference, name, fn)
    for name, fn in OLD_VECTOR.items():
        monkeypatch.setattr(reference.vector, name, fn)
    result = _status("ref.arb_vs_mpmath.edges")
    assert result.status is registry.Status.FAIL
    assert result.measured > 1e40  # 0.5 where 1.0 is right: no digit, against a 1e-50 tolerance


def test_the_old_icl_target_fails_the_icl_check(monkeypatch):
    monkeypatch.setattr(reference.icl, "shifted_target", old_shifted_target)
    result = _status("ref.icl.edge")
    assert result.status is registry.Status.FAIL and result.measured > 1e40


def test_the_old_icl_target_really_was_wrong_and_exactness_now_says_so(monkeypatch):
    A = np.array([[1.0], [1.0]])
    B = np.full((2, 2), 0.5)
    X, Xn = np.array([[-400.0]]), np.array([[0.0]])
    assert old_shifted_target(A, A, B, X, X_new=Xn, version="rescaled")[0, 0] == 0  # the defect, reproduced
    monkeypatch.setattr(reference.icl, "shifted_target", old_shifted_target)
    # the old exactness divided by the new residual (exactly 0 here) and called this exact (~1e-174)
    assert reference.icl.exactness(A, A, B, X, X_new=Xn, version="rescaled") >= mpmath.mpf("0.99")


def test_the_icl_check_passes_on_the_proven_reference():  # ref.arb_vs_mpmath.edges passes in test_registry
    assert _status("ref.icl.edge").status is registry.Status.PASS
