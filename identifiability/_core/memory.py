"""What a machine can hold: sizes are refused before they are allocated, with the estimate."""

from __future__ import annotations

import os

import torch

from .checks import SettingError


def available_memory(device: torch.device | str = "cpu") -> int | None:
    """Bytes free for new tensors on ``device`` (None where the platform does not say)."""
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(n: float) -> str:
    """"3.2 GB"-style."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


# A plan this small is not worth asking the device about: asking is a file read or a driver call, and a training
# step's batch draw asked every step (0.14 ms a step on a 2-core CPU, a tenth of a small step). Where even this
# much is not free (a GPU another process has filled), torch's own out-of-memory error says so.
ALWAYS_FITS = 64 * 2**20


def check_fits(needs: dict[str, float], device: torch.device | str = "cpu") -> None:
    """Refuse a plan whose estimated memory exceeds what ``device`` has free (plans of at most
    ``ALWAYS_FITS`` bytes pass unasked).

    Args:
        needs: bytes by the setting that drives them, e.g. {"batch_size=512": 2.1e8}; the largest
            is named in the error.
    """
    total = sum(needs.values())
    if total <= ALWAYS_FITS:
        return
    free = available_memory(device)
    if free is None or total <= free:
        return
    setting = max(needs, key=needs.get)
    name, _, value = setting.partition("=")
    raise SettingError(
        name,
        f"{value} needs about {format_bytes(total)} of memory, more than the {format_bytes(free)} free on "
        f"{torch.device(device)}" if value else f"needs about {format_bytes(total)}, more than {format_bytes(free)} free",
    )
