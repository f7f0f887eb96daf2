"""Interpolating splines for track positions (numpy only).

``not_a_knot_cubic`` is the cubic spline through every point with the "not-a-knot" end
conditions (the third derivative is continuous at the second and the last-but-one point) —
the spline ``scipy.interpolate.interp1d(kind="cubic")`` builds. With three points it is the
parabola through them (``kind="quadratic"`` there), with two the straight line.

>>> x = np.array([0.0, 1.0, 2.0, 4.0, 7.0])
>>> cubic = x**3 - 2 * x + 1
>>> bool(np.allclose(not_a_knot_cubic(x, cubic, np.array([0.5, 3.0, 6.0])), [0.125, 22.0, 205.0]))
True
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def not_a_knot_cubic(x: FloatArray, y: FloatArray, xnew: FloatArray) -> FloatArray:
    """Values at ``xnew`` (inside ``[x[0], x[-1]]``) of the interpolating spline through (x, y).

    ``x`` must be strictly increasing. Four or more points: not-a-knot cubic spline; three:
    the parabola; two: the line.
    """
    n = x.shape[0]
    if n == 2:
        return np.interp(xnew, x, y)
    if n == 3:
        return _parabola(x, y, xnew)
    second = _second_derivatives(x, y)
    h = np.diff(x)
    i = np.clip(np.searchsorted(x, xnew, side="right") - 1, 0, n - 2)
    hi = h[i]
    left = x[i + 1] - xnew
    right = xnew - x[i]
    return (
        second[i] * left**3 / (6 * hi)
        + second[i + 1] * right**3 / (6 * hi)
        + (y[i] / hi - second[i] * hi / 6) * left
        + (y[i + 1] / hi - second[i + 1] * hi / 6) * right
    )


def _second_derivatives(x: FloatArray, y: FloatArray) -> FloatArray:
    """Second derivatives at the knots of the not-a-knot cubic spline (a small dense solve)."""
    n = x.shape[0]
    h = np.diff(x)
    slope = np.diff(y) / h
    system = np.zeros((n, n))
    rhs = np.zeros(n)
    for k in range(1, n - 1):
        system[k, k - 1 : k + 2] = (h[k - 1], 2 * (h[k - 1] + h[k]), h[k])
        rhs[k] = 6 * (slope[k] - slope[k - 1])
    # not-a-knot: the third derivative is the same on both sides of x[1] and of x[n-2]
    system[0, 0:3] = (h[1], -(h[0] + h[1]), h[0])
    system[n - 1, n - 3 : n] = (h[n - 2], -(h[n - 3] + h[n - 2]), h[n - 3])
    return np.linalg.solve(system, rhs).astype(np.float64)


def _parabola(x: FloatArray, y: FloatArray, xnew: FloatArray) -> FloatArray:
    """The Lagrange parabola through three points."""
    x0, x1, x2 = (float(v) for v in x)
    parabola: FloatArray = (
        y[0] * (xnew - x1) * (xnew - x2) / ((x0 - x1) * (x0 - x2))
        + y[1] * (xnew - x0) * (xnew - x2) / ((x1 - x0) * (x1 - x2))
        + y[2] * (xnew - x0) * (xnew - x1) / ((x2 - x0) * (x2 - x1))
    )
    return parabola
