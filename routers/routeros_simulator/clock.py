"""The router's clock as RouterOS prints it: local date and time, and durations like 1w2d3h4m5s."""
import time


def format_duration(seconds: float) -> str:
    """RouterOS style: 1w2d3h4m5s."""
    seconds = int(seconds)
    parts = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    if seconds or not parts:
        parts.append(f"{seconds}s")
    return "".join(parts)


def clock(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))
