"""Options and dtypes at the public boundary: one sentence naming the argument, integer-likes alike."""
import numpy as np
import pytest

import attnreg


def _problem(n=4, d=2):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, d)), rng.standard_normal((n, d)), rng.dirichlet(np.ones(n), size=n), \
        rng.standard_normal((d, d))


@pytest.mark.skipif(np.finfo(np.longdouble).bits <= 64, reason="longdouble is float64 on this platform")
@pytest.mark.parametrize("call", [
    lambda a: attnreg.loss(*a, version="normalized"),
    lambda a: attnreg.grad(*a, version="rescaled"),
    lambda a: attnreg.vector.loss(a[0], a[2][0], a[0][0], version="normalized"),
])
def test_extended_precision_is_refused_with_one_sentence(call):
    arrays = [a.astype(np.longdouble) for a in _problem()]
    with pytest.raises(TypeError, match=r"^A1? has the extended-precision dtype float128.*convert it to float64"):
        call(arrays)


@pytest.mark.parametrize("value", [2, np.int64(2), np.int32(2), np.uint8(2)])
def test_integer_like_options_are_accepted_alike(value):
    A1, A2, B, X = _problem()
    want = attnreg.loss(A1, A2, B, X, version="normalized", block_rows=2)
    assert attnreg.loss(A1, A2, B, X, version="normalized", block_rows=value) == want
    assert attnreg.log_loss(A1, A2, B, X, version="rescaled", block_rows=value) == \
        attnreg.log_loss(A1, A2, B, X, version="rescaled", block_rows=2)
    assert attnreg.alpha(A1, A2, X, block_rows=value).shape == (4,)
    assert attnreg.hessian(A1, A2, B, X, version="normalized", max_entries=np.int64(16)).shape == (4, 4)
    assert attnreg.kron_operator(A1, A2).dense(max_entries=value * 32).shape == (16, 4)
    assert attnreg.unvec(attnreg.vec(X), value).shape == (2, 2)
    assert attnreg.icl.shift(A1, A2, B, X, version="normalized", X_new=X * 1.1, iterations=value).step > 0
    assert attnreg.solve(A1, A2, B, version="normalized", method="lbfgs", memory=value, max_iter=3).iterations <= 3
    r = attnreg.solve(A1, A2, B, version="normalized", max_iter=value)
    assert r.iterations <= 2


CALLS = [
    ("block_rows", lambda a, v: attnreg.loss(*a, version="normalized", block_rows=v)),
    ("max_entries", lambda a, v: attnreg.hessian(*a, version="normalized", max_entries=v)),
    ("max_entries", lambda a, v: attnreg.vector.hessian(a[0], a[2][0], a[0][0], version="normalized",
                                                        max_entries=v)),
    ("max_iter", lambda a, v: attnreg.solve(*a[:3], version="normalized", max_iter=v)),
    ("memory", lambda a, v: attnreg.solve(*a[:3], version="normalized", method="lbfgs", memory=v)),
    ("max_entries", lambda a, v: attnreg.kron_operator(a[0], a[1]).dense(max_entries=v)),
    ("iterations", lambda a, v: attnreg.icl.shift(*a, version="normalized", X_new=a[3] * 1.1, iterations=v)),
    ("shape", lambda a, v: attnreg.unvec(attnreg.vec(a[3]), (v, 2))),
]
BAD = ["x", 2.5, True, None, -1, np.float64(2.0)]


# None is block_rows' documented default, so it is not a bad value there.
@pytest.mark.parametrize("name,call,bad", [(name, call, bad) for name, call in CALLS for bad in BAD
                                           if not (name == "block_rows" and bad is None)])
def test_every_integer_option_is_type_checked(name, call, bad):
    with pytest.raises(ValueError, match=f"^{name} must be a (positive|non-negative) integer, got "):
        call(_problem(), bad)
