"""The shipped gold, re-derived from the definitions with plain mpmath at 500 digits (no attnreg code):
every nonzero value of the small matrix cases is the correctly rounded 40-digit value.

The inputs are ``repr`` strings of float64 values: they must be read with ``float`` first (read directly
at high precision, ``"0.1"`` is not the float64 0.1 and the gold differs from the 16th digit on)."""
import json
from importlib import resources

import mpmath as mp
import pytest

CASES = [c for c in json.loads(resources.files("attnreg.verify").joinpath("data/golden.json").read_text())["cases"]
         if c["form"] == "matrix" and c["n"] <= 8]


def _gold(A1, A2, B, X, version):
    n, d = len(A1), len(X)
    S = [[mp.fsum(A1[j][a] * X[a][b] * A2[k][b] for a in range(d) for b in range(d)) for k in range(n)]
         for j in range(n)]
    U = [[mp.exp(s) for s in r] for r in S]
    al = [mp.fsum(r) for r in U]
    if version == "normalized":
        F = [[u / al[j] for u in U[j]] for j in range(n)]
        C = [[F[j][k] - B[j][k] for k in range(n)] for j in range(n)]
        P = [[F[j][k] * C[j][k] - mp.fsum(F[j][i] * C[j][i] for i in range(n)) * F[j][k] for k in range(n)]
             for j in range(n)]
    else:
        C = [[U[j][k] - al[j] * B[j][k] for k in range(n)] for j in range(n)]
        P = [[U[j][k] * C[j][k] - mp.fsum(C[j][i] * B[j][i] for i in range(n)) * U[j][k] for k in range(n)]
             for j in range(n)]
    L = mp.fsum(c * c for r in C for c in r) / 2
    G = [[mp.fsum(A1[j][a] * P[j][k] * A2[k][b] for j in range(n) for k in range(n)) for b in range(d)]
         for a in range(d)]
    return [L] + [g for r in G for g in r]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_gold_is_the_correctly_rounded_40_digit_value(case):
    with mp.workdps(500):
        A1, A2, B, X = ([[mp.mpf(float.fromhex(s)) for s in r] for r in case["inputs"][k]]
                        for k in ("A1", "A2", "B", "X"))
        for version, gold in case["gold"].items():
            mine = _gold(A1, A2, B, X, version)
            for v, s in zip(mine, [gold["loss"]] + [g for r in gold["grad"] for g in r]):
                g = mp.mpf(s)
                if g == 0:  # written as 0 below 1e-300 × the largest entry (golden.NOISE), beyond any float
                    assert abs(v) <= mp.mpf(10) ** -300 * max(abs(w) for w in mine[1:])
                    continue
                unit = mp.mpf(10) ** (mp.floor(mp.log10(abs(g))) - 39)
                assert abs(v - g) <= unit / 2 * (1 + mp.mpf(10) ** -6), (case["id"], version, s)
