r"""First-order jets over arb balls: a value enclosure and a gradient enclosure, carried together.

A :class:`Jet` ``(v, g)`` stands for a smooth function ``φ`` on a box ``X ⊂ R^p``: ``v ⊇ φ(X)`` and
``g[k] ⊇ ∂_k φ(X)``. Seeding ``x_k = Jet(X_k, e_k)`` and running any formula built from ``+ − × /``
and ``exp`` through it gives, for every intermediate quantity, its range on the box *and* the range
of its partial derivatives (forward-mode differentiation, each rule applied in ball arithmetic, so
every enclosure is rigorous by arb's containment guarantee). The derivative enclosures feed the
mean-value form of :mod:`.enclose`::

    φ(x) ∈ φ(c) + Σ_k g[k] · (X_k − c_k)      for every x ∈ X  (c ∈ X, X convex).
"""
from __future__ import annotations

import flint


class Jet:
    __slots__ = ("v", "g")

    def __init__(self, v, g):
        self.v = v
        self.g = g

    @classmethod
    def variable(cls, value, k: int, p: int) -> "Jet":
        return cls(value, tuple(flint.arb(1 if j == k else 0) for j in range(p)))

    def __add__(self, o):
        if isinstance(o, Jet):
            return Jet(self.v + o.v, tuple(a + b for a, b in zip(self.g, o.g)))
        return Jet(self.v + o, self.g)

    __radd__ = __add__

    def __neg__(self):
        return Jet(-self.v, tuple(-a for a in self.g))

    def __sub__(self, o):
        return self + (-o)

    def __rsub__(self, o):
        return (-self) + o

    def __mul__(self, o):
        if isinstance(o, Jet):
            return Jet(self.v * o.v, tuple(self.v * b + o.v * a for a, b in zip(self.g, o.g)))
        return Jet(self.v * o, tuple(a * o for a in self.g))

    __rmul__ = __mul__

    def __truediv__(self, o):
        if isinstance(o, Jet):
            q = self.v / o.v
            return Jet(q, tuple((a - q * b) / o.v for a, b in zip(self.g, o.g)))
        return Jet(self.v / o, tuple(a / o for a in self.g))

    def __rtruediv__(self, o):  # o / self with o a constant
        q = o / self.v
        return Jet(q, tuple(-q * a / self.v for a in self.g))

    def exp(self):
        e = exp_ball(self.v)
        return Jet(e, tuple(e * a for a in self.g))


def exp_ball(a):
    """``exp`` of a ball through its endpoints: the union of the balls ``exp(lower)`` and ``exp(upper)``,
    which contains ``[e^lower, e^upper]`` (exp increases), where arb's ``exp`` of the midpoint-radius ball
    of ``[−44, 44]`` is ``[± 4e15]``. The result is *not* guaranteed positive: it is stored as a midpoint
    and a 30-bit radius, so for a wide ball its lower end is lost (``[−20, 20]`` at 53 bits gives
    ``[−0.57, 4.9e8]``, ``[−44, 44]`` a lower end of ``−2.4e10``); callers that need a positive value use
    what they know instead (:func:`.enclose._reciprocal_of_at_least_one` clamps ``1 + Σ exp ≥ 1``)."""
    if a.rad() < 1:
        return a.exp()
    return a.lower().exp().union(a.upper().exp())


def exp(z):
    """``exp`` of an arb or a :class:`Jet`."""
    return z.exp() if isinstance(z, Jet) else exp_ball(z)
