"""The names a pickle imports (GLOBAL, INST, STACK_GLOBAL), read with pickletools.genops.

STACK_GLOBAL takes its module and name from the stack; pickle writes them as the two strings
just before it, either as string opcodes or as memo gets of strings written earlier, so the
scanner keeps the memo of strings and the last two values pushed.
"""

from __future__ import annotations

import pickletools

STRINGS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING", "SHORT_BINSTRING"}
GETS = {"GET", "BINGET", "LONG_BINGET"}
PUTS = {"PUT", "BINPUT", "LONG_BINPUT"}
# Opcodes that do not change the top of the stack as far as STACK_GLOBAL is concerned.
NEUTRAL = {"FRAME", "PROTO"}


def names_in(data: bytes) -> set[tuple[str, str]]:
    """(module, name) pairs of one or more consecutive pickles (legacy torch.save writes several)."""
    found: set[tuple[str, str]] = set()
    pos = 0
    while pos < len(data):
        end = _scan(data, pos, found)
        if end is None or end <= pos:
            break
        pos = end
    return found


def _scan(data: bytes, start: int, found: set[tuple[str, str]]) -> int | None:
    memo: dict[int, object] = {}
    recent: list[object] = []  # values pushed lately, strings or None for anything else
    end = None
    try:
        for op, arg, pos in pickletools.genops(data[start:]):
            name = op.name
            if name in ("GLOBAL", "INST"):
                module, _, qual = arg.partition(" ")
                found.add((module, qual))
                recent.append(None)
            elif name == "STACK_GLOBAL":
                if len(recent) >= 2 and isinstance(recent[-2], str) and isinstance(recent[-1], str):
                    found.add((recent[-2], recent[-1]))
                recent[-2:] = [None]
            elif name in STRINGS:
                recent.append(arg if isinstance(arg, str) else None)
            elif name in GETS:
                recent.append(memo.get(arg))
            elif name in PUTS:
                memo[arg] = recent[-1] if recent else None
            elif name == "MEMOIZE":
                memo[len(memo)] = recent[-1] if recent else None
            elif name == "STOP":
                end = start + pos + 1
                break
            elif name not in NEUTRAL:
                recent.append(None)
    except Exception:  # noqa: BLE001 - trailing raw data (storages) ends the scan
        return None
    return end
