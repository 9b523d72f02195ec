"""What the checks share: counting claims, comparing numbers."""
import numpy as np


class Claims:
    """claim(ok, what) prints "ok   what" or "FAIL what" and counts; `holds` when none failed."""

    def __init__(self, quiet_ok=False):
        self.failed = self.total = 0
        self.quiet_ok = quiet_ok

    def __call__(self, ok, what):
        self.total += 1
        if not ok:
            self.failed += 1
        if not ok or not self.quiet_ok:
            print(("ok   " if ok else "FAIL ") + what)
        return bool(ok)

    @property
    def holds(self):
        return self.failed == 0


def same(a, b, rel=1e-12):
    """Equal arrays: the same shape, NaN where NaN, else equal to `rel` relative."""
    a, b = np.atleast_1d(np.asarray(a, float)), np.atleast_1d(np.asarray(b, float))
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b)) |
                                              (np.abs(a - b) <= rel * np.maximum(np.abs(a), np.abs(b)))))


def text(value):
    """An HDF5 attribute value as text."""
    if hasattr(value, "item"):
        value = value.item()
    return value.decode() if isinstance(value, bytes) else str(value)
