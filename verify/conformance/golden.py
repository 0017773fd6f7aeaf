"""The golden file: exact inputs with loss and gradient at 40 significant digits, both versions.

Inputs are written as hexadecimal floats (:func:`hexfloat`: ``0x1.8p+1`` is 3 exactly), so that every
reader — ``float.fromhex``, a C ``strtod``, a high-precision library — gets the same binary64 number, which a
short decimal string does not promise (read at high precision, ``0.1`` is not the float64 ``0.1``).
Each gold value comes from the public reference (:mod:`attnreg.reference`) at
``50 + 2·max|S|/ln 10`` digits (saturated rows cancel numbers of size ``e^{max S}``) and is checked
against :mod:`.independent` at 300 + that many digits; a value the two do not agree on to 42 digits
is not written (:class:`GoldMismatch`). Regenerate with

    python -m attnreg.verify.conformance.golden [--out PATH] [--only ID ...]

which reproduces the shipped file byte for byte (the tests check a subset).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from functools import lru_cache
from importlib import resources

import mpmath
import numpy as np
from mpmath.libmp import to_str

from attnreg import reference
from attnreg._io import atomic_write_text

from . import goldcases, independent

FORMAT = "attnreg-golden"
FORMAT_VERSION = 2  # 2: inputs as hexadecimal floats (1: shortest decimal strings)
DIGITS = 40
AGREE = 42  # digits the reference and the independent evaluation must share before a value is written
# A gradient entry below NOISE × the largest entry is written as 0 when both evaluations put it there:
# at that level both are rounding noise of their working precision (e.g. an entry that is exactly 0 by
# shift invariance came out as 6e-974 and 1e-1203), and no float format can see it next to the others.
NOISE = mpmath.mpf(10) ** -300
VERSIONS = ("normalized", "rescaled")


class GoldMismatch(RuntimeError):
    """The reference and the independent evaluation disagree: the value is not written."""


def _num(v) -> str:
    if v == 0:
        return "0"
    return to_str(v._mpf_, DIGITS, strip_zeros=False, min_fixed=1, max_fixed=0, show_zero_exponent=True)


def _agree(a, b) -> bool:
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    return a == b or abs(a - b) <= mpmath.mpf(10) ** -AGREE * abs(b)


def _logits(spec, inp):
    ctx = mpmath.MPContext()
    ctx.dps = 30
    if spec.form == "matrix":
        S = [[ctx.fsum(ctx.mpf(float(a)) * ctx.mpf(float(x)) * ctx.mpf(float(c)) for a, x_row in zip(r1, inp["X"])
                       for x, c in zip(x_row, r2)) for r2 in inp["A2"]] for r1 in inp["A1"]]
    else:
        S = [[ctx.fsum(ctx.mpf(float(a)) * ctx.mpf(float(v)) for a, v in zip(r, inp["x"])) for r in inp["A"]]]
    return max(abs(v) for r in S for v in r), max(v for r in S for v in r)


def gold_values(spec, inp, version):
    """``(loss, gradient list)`` as mpf, checked by the independent evaluation."""
    top, _ = _logits(spec, inp)
    dps = 50 + int(math.ceil(2 * float(top) / math.log(10))) + 10
    if spec.form == "matrix":
        L, G = reference.loss_and_grad(inp["A1"], inp["A2"], inp["B"], inp["X"], version=version, dps=dps)
        G = [[G[i, k] for k in range(spec.d)] for i in range(spec.d)]
        L2, G2 = independent.loss_and_grad(inp["A1"], inp["A2"], inp["B"], inp["X"], version)
        flat, flat2 = [v for r in G for v in r], [v for r in G2 for v in r]
    else:
        L, g = reference.vector.loss_and_grad(inp["A"], inp["b"], inp["x"], version=version, dps=dps)
        G = [g[i] for i in range(spec.d)]
        L2, flat2 = independent.vector_loss_and_grad(inp["A"], inp["b"], inp["x"], version)
        flat = G
    gtop = max([abs(v) for v in flat2] + [0])
    noise = [abs(a) <= NOISE * gtop and abs(b) <= NOISE * gtop for a, b in zip(flat, flat2)]
    bad = [i for i, (a, b) in enumerate(zip([L, *flat], [L2, *flat2])) if not (_agree(a, b) or i and noise[i - 1])]
    if bad:
        what = "loss" if bad[0] == 0 else f"gradient entry {bad[0] - 1}"
        raise GoldMismatch(f"{spec.id} ({version}): the reference and the independent {AGREE}-digit evaluation "
                           f"disagree on the {what}: {mpmath.nstr(([L, *flat])[bad[0]], 20)} vs "
                           f"{mpmath.nstr(([L2, *flat2])[bad[0]], 20)}")
    zero = lambda v: 0 if abs(v) <= NOISE * gtop else v  # noqa: E731
    return L, [[zero(v) for v in r] for r in G] if spec.form == "matrix" else [zero(v) for v in G]


def build_case(spec) -> dict:
    inp = goldcases.inputs(spec)
    top, smax = _logits(spec, inp)
    gold = {}
    for version in VERSIONS:
        L, G = gold_values(spec, inp, version)
        gold[version] = {"loss": _num(L), "grad": [[_num(v) for v in r] for r in G] if spec.form == "matrix"
                         else [_num(v) for v in G]}
    return {"id": spec.id, "form": spec.form, "n": spec.n, "d": spec.d, "note": spec.note,
            "max_abs_logit": mpmath.nstr(top, 6), "max_logit": mpmath.nstr(smax, 6),
            "float64_only": spec.exact64,
            "inputs": {k: _exact(np.asarray(v)) for k, v in inp.items()},
            "gold": gold}


def _exact(a):
    return [hexfloat(v) for v in a] if a.ndim == 1 else [[hexfloat(v) for v in r] for r in a]


def hexfloat(v) -> str:
    """``float.hex`` without the mantissa's trailing zeros: ``0x1.8p+1``, ``-0x1p-3``, ``0x0p+0``."""
    mantissa, exponent = float(v).hex().split("p")
    return mantissa.rstrip("0").rstrip(".") + "p" + exponent


def dumps_case(case: dict) -> str:
    return json.dumps(case, ensure_ascii=False, separators=(",", ":"))


def dumps(cases: list[dict]) -> str:
    head = {"format": FORMAT, "format_version": FORMAT_VERSION, "digits": DIGITS,
            "regenerate": "python -m attnreg.verify.conformance.golden"}
    body = ",\n".join(dumps_case(c) for c in cases)
    return json.dumps(head, ensure_ascii=False)[:-1] + ', "cases": [\n' + body + "\n]}\n"


def shipped_text() -> str:
    return resources.files("attnreg.verify").joinpath("data/golden.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load() -> dict:
    """The shipped golden file as parsed JSON."""
    data = json.loads(shipped_text())
    if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
        raise ValueError("the golden file has an unknown format")
    return data


def arrays(case: dict) -> dict:
    """The exact float64 inputs of a loaded case as numpy arrays."""
    read = np.vectorize(float.fromhex, otypes=[float])
    return {k: read(np.array(v, dtype=object)) for k, v in case["inputs"].items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m attnreg.verify.conformance.golden",
                                description="Regenerate the golden file from the reference (byte for byte).")
    p.add_argument("--out", help="write here (default: print to stdout)")
    p.add_argument("--only", nargs="*", help="only these case ids")
    args = p.parse_args(argv)
    specs = [s for s in goldcases.SPECS if not args.only or s.id in args.only]
    try:
        text = dumps([build_case(s) for s in specs])
    except GoldMismatch as exc:
        print(f"golden: refused: {exc}", file=sys.stderr)
        return 1
    if args.out:
        atomic_write_text(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
