"""Figures the benchmarks print, computed one way for all of them."""


def percentile(times: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.95 for p95) of the measured times."""
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]
