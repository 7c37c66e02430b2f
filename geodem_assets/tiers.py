"""The tiers of a classification and their codes.

Depth 2 (the workshop's, the default): supergroups A, B, … and subgroups A1, A2, …
Depth 3 (the OAC's: supergroup -> group -> subgroup): supergroups A, B, …, groups A1, A2, …
and subgroups A1a, A1b, … The OAC 2021 numbers its tiers 1, 1a, 1a1; here the supergroup
keeps the workshop's letter and the group its number, so a depth-2 code reads the same at
depth 3 one tier down (A1 is a subgroup at depth 2, a group at depth 3), and the subgroup
adds a lower-case letter. A code names its parent: drop its last part (A1a -> A1 -> A).
"""

from __future__ import annotations

import re
import string

DEPTHS = (2, 3)
LEVELS_BY_DEPTH = {2: ("supergroup", "subgroup"), 3: ("supergroup", "group", "subgroup")}
ALL_LEVELS = ("supergroup", "group", "subgroup")
MAX_CHILDREN = 26  # letters for supergroups and depth-3 subgroups
_CODE = re.compile(r"^([A-Z])(?:(\d+)([a-z])?)?$")


def levels(depth: int) -> tuple[str, ...]:
    """The levels of a classification of `depth` tiers, coarsest first; ValueError for another depth."""
    if depth not in LEVELS_BY_DEPTH:
        raise ValueError(f"depth must be one of {', '.join(map(str, DEPTHS))}, got {depth!r}")
    return LEVELS_BY_DEPTH[depth]


def parent_level(level: str, depth: int) -> str | None:
    """The level above `level` (None for supergroups)."""
    order = levels(depth)
    if level not in order:
        raise ValueError(f"level {level!r} is not a level of a depth-{depth} classification: {order}")
    i = order.index(level)
    return order[i - 1] if i else None


def child_code(parent: str, i: int) -> str:
    """The code of the i-th child (0-based) of `parent`: A -> A1, A2, …; A1 -> A1a, A1b, …

    The children of a supergroup are numbered, those of a numbered code lettered. ValueError
    for a parent code that is not a supergroup or group code, or more than 26 lettered children.
    """
    found = _CODE.match(parent)
    if not found or found.group(3):
        raise ValueError(f"{parent!r} is not a supergroup or group code (A, or A1)")
    if found.group(2) is None:
        return f"{parent}{i + 1}"
    if i >= MAX_CHILDREN:
        raise ValueError(f"group {parent} cannot have more than {MAX_CHILDREN} subgroups")
    return f"{parent}{string.ascii_lowercase[i]}"


def parent_code(code: str) -> str | None:
    """A1a -> A1, A1 -> A, A -> None; ValueError for a string that is not a cluster code."""
    found = _CODE.match(code)
    if not found:
        raise ValueError(f"{code!r} is not a cluster code (A, A1 or A1a)")
    if found.group(3):
        return f"{found.group(1)}{found.group(2)}"
    if found.group(2):
        return found.group(1)
    return None


def code_depth(code: str) -> int:
    """1 for A, 2 for A1, 3 for A1a."""
    depth, parent = 1, parent_code(code)
    while parent is not None:
        depth, parent = depth + 1, parent_code(parent)
    return depth


def sort_key(code: str) -> tuple:
    """Each parent before its children, children by number or letter (A, A1, A1a, A1b, A2, …, A10, B)."""
    found = _CODE.match(code)
    if not found:
        raise ValueError(f"{code!r} is not a cluster code (A, A1 or A1a)")
    letter, number, sub = found.groups()
    return (letter, int(number) if number else 0, sub or "")
