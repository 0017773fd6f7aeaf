r"""Re-check a saved counterexample (``attnreg claims replay FILE``).

The file holds the claim's own TOML table, the parameters (n, d, R), the exact float64 inputs (JSON
numbers round-trip exactly) and, for a Lipschitz claim, the second point ``p'``. Replay re-reads the
claim through the claim-file parser, re-checks every assumption and both sides of the inequality at
the recorded precision (≥ 50 digits) with ``attnreg.reference``, and compares the two sides with the
recorded ones.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attnreg.reference import make_context

from . import confirm
from .claimfile import ClaimError, from_table

# Recorded and recomputed sides must agree to 30 significant digits: both are evaluated at >= 50 digits
# (possibly at different dps), so 30 leaves 20 digits for cancellation inside the quantity.
AGREE_DIGITS = 30
MAX_BYTES = 16 * 2**20  # a counterexample of the search's largest problem (n = 4096, d = 32) is ~3 MB of JSON
MAX_N = {"vector": 4096, "matrix": 256}  # the search's own limits (verify/claims/domain.py): beyond, replay is slow
MAX_D = 32


class ReplayError(ValueError):
    """A counterexample file that cannot be replayed; one sentence."""


@dataclass
class Replay:
    stands: bool  # the violation is reproduced, with every assumption holding
    text: str  # one paragraph for a human
    record: dict


def replay(path, *, dps: int | None = None) -> Replay:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ReplayError(f"{path}: cannot read the file ({exc.__class__.__name__})") from None
    if size > MAX_BYTES:
        raise ReplayError(f"{path}: larger than {MAX_BYTES // 2**20} MiB, more than any counterexample the search "
                          f"writes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplayError(f"{path}: cannot read the file ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise ReplayError(f"{path}: not JSON ({exc})") from None
    except RecursionError:
        raise ReplayError(f"{path}: not a counterexample (JSON nested too deeply)") from None
    except ValueError as exc:  # NaN or Infinity, refused by _no_constant
        raise ReplayError(f"{path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != confirm.FORMAT:
        raise ReplayError(f"{path}: not an attnreg counterexample (format {confirm.FORMAT!r} expected)")
    try:
        if not all(isinstance(data.get(k), dict) for k in ("claim", "params", "inputs")):
            raise TypeError("claim, params and inputs must be JSON objects")
        claim = from_table(data["claim"], str(path))
        params = {k: data["params"][k] for k in ("n", "d", "R")}
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in params.values()):
            raise TypeError("params n, d and R must be numbers")
        inputs = {k: np.asarray(v, dtype=float) for k, v in data["inputs"].items()}
        p_prime = None if data.get("p_prime") is None else np.asarray(data["p_prime"], dtype=float)
        _check_sizes(claim, params, inputs, p_prime)
        dps = max(50, int(dps or data.get("dps", confirm.DPS)))
    except ClaimError as exc:
        raise ReplayError(str(exc)) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ReplayError(f"{path}: malformed counterexample ({exc.__class__.__name__}: {exc})") from None
    if (p_prime is None) != (claim.kind != "lipschitz"):
        raise ReplayError(f"{path}: a {claim.kind} claim needs {'a' if claim.kind == 'lipschitz' else 'no'} p_prime")
    try:
        fresh = confirm.evaluate_record(claim, params, inputs, p_prime, dps)
        agree = all(_agree(fresh[k], data.get(k)) for k in ("lhs", "rhs"))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # inputs missing or of the wrong kind
        raise ReplayError(f"{path}: malformed counterexample ({exc.__class__.__name__}: {exc})") from None
    stands = fresh["violated"] and not fresh["failed_assumptions"]
    text = (f"{claim.id}: {claim.statement()} at n={params['n']}, d={params['d']}, R={params['R']:g}: "
            f"{fresh['lhs_meaning']} = {fresh['lhs'][:24]}, {fresh['rhs_meaning']} = {fresh['rhs'][:24]} "
            f"(at {dps} digits). ")
    if fresh["failed_assumptions"]:
        text += f"Assumptions that fail: {', '.join(fresh['failed_assumptions'])}. "
    text += "The counterexample stands." if stands else "The claim is NOT violated at these inputs."
    if not agree:
        text += " The recomputed sides differ from the recorded ones."
    return Replay(stands and agree, text, fresh)


def _no_constant(name):
    raise ValueError(f"the file holds {name}; a counterexample has finite numbers only")


def _check_sizes(claim, params, inputs, p_prime) -> None:
    """Refuse what the search never writes: sizes past its limits, non-finite numbers."""
    n, d = params["n"], params["d"]
    if not (isinstance(n, int) and isinstance(d, int) and 1 <= n <= MAX_N[claim.form] and 1 <= d <= MAX_D):
        raise ValueError(f"n = {n}, d = {d} outside the searched sizes (n ≤ {MAX_N[claim.form]}, d ≤ {MAX_D}, "
                         f"integers)")
    if not isinstance(params["R"], int | float) or not np.isfinite(params["R"]):
        raise ValueError("R must be a finite number")
    for name, a in [*inputs.items(), ("p_prime", p_prime)]:
        if a is not None and (a.size > max(n * n, n * d, d * d) or not np.all(np.isfinite(a))):
            raise ValueError(f"input {name} has more entries than n and d allow, or non-finite entries")


def _agree(a, b) -> bool:
    if not isinstance(b, str):
        return False
    ctx = make_context(50)
    x, y = ctx.mpf(a), ctx.mpf(b)
    return x == y or abs(x - y) <= ctx.mpf(10) ** -AGREE_DIGITS * max(abs(x), abs(y))
