"""HLL parameters (log2m, regwidth, expthresh, sparseon): validation and header encoding.

The limits are those of postgresql-hll, whose in-memory multiset holds 128 KiB of data:
at most 2**17 registers and (128 KiB - 8) / 8 = 16383 explicit elements.
"""

from __future__ import annotations

from dataclasses import dataclass

from resources.hll.errors import HLLFormatError

SCHEMA_VERSION = 1
TYPE_UNDEFINED, TYPE_EMPTY, TYPE_EXPLICIT, TYPE_SPARSE, TYPE_FULL = 0, 1, 2, 3, 4
TYPE_NAMES = {0: "UNDEFINED", 1: "EMPTY", 2: "EXPLICIT", 3: "SPARSE", 4: "FULL"}

MAX_LOG2M = 17
MAX_REGWIDTH = 7
MAX_EXPLICIT = 16383
EXPTHRESH_AUTO = -1
_EXPTHRESH_CODE_AUTO = 63


def decode_expthresh(code: int) -> int:
    """Header/typmod 6-bit code -> expthresh: 63 -> -1 (auto), 0 -> 0, k -> 2**(k-1)."""
    if code == _EXPTHRESH_CODE_AUTO:
        return EXPTHRESH_AUTO
    return 0 if code == 0 else 1 << (code - 1)


def encode_expthresh(expthresh: int) -> int:
    """expthresh -> its 6-bit code (inverse of decode_expthresh for valid values)."""
    if expthresh == EXPTHRESH_AUTO:
        return _EXPTHRESH_CODE_AUTO
    return 0 if expthresh == 0 else expthresh.bit_length()


@dataclass(frozen=True, slots=True)
class Params:
    """The four type modifiers of an hll value."""

    log2m: int
    regwidth: int
    expthresh: int
    sparseon: int

    @property
    def nregs(self) -> int:
        return 1 << self.log2m

    @property
    def max_register(self) -> int:
        return (1 << self.regwidth) - 1

    @property
    def explicit_limit(self) -> int:
        """Largest number of explicit elements before promotion to registers (expthresh_value)."""
        if self.expthresh != EXPTHRESH_AUTO:
            return self.expthresh
        # Auto: as many 8-byte elements as fit in the size of the full register array.
        full_bytes = (self.regwidth * self.nregs + 7) // 8
        return min(full_bytes // 8, MAX_EXPLICIT)

    def header(self, type_code: int, version: int = SCHEMA_VERSION) -> bytes:
        """The 3-byte header: version/type, regwidth/log2m, sparseon/expthresh code."""
        return bytes(
            (
                (version << 4) | type_code,
                ((self.regwidth - 1) << 5) | self.log2m,
                (self.sparseon << 6) | encode_expthresh(self.expthresh),
            )
        )

    def mismatch(self, other: Params) -> str | None:
        """PostgreSQL's message when `other` (source) cannot be unioned into self (dest), else None."""
        if self.regwidth != other.regwidth:
            return (
                f"register width does not match: source uses {other.regwidth} and dest uses {self.regwidth}"
            )
        if self.nregs != other.nregs:
            return f"register count does not match: source uses {other.nregs} and dest uses {self.nregs}"
        if self.expthresh != other.expthresh:
            return f"explicit threshold does not match: source uses {other.expthresh} and dest uses {self.expthresh}"
        if self.sparseon != other.sparseon:
            return f"sparse enable does not match: source uses {other.sparseon} and dest uses {self.sparseon}"
        return None


def checked_params(log2m: int, regwidth: int, expthresh: int, sparseon: int) -> Params:
    """Params after PostgreSQL's check_modifiers; raises HLLFormatError naming the bad one.

    regwidth 0, which PostgreSQL accepts but then writes as a header it cannot read back,
    is refused.
    """
    for name, value in (
        ("log2m", log2m),
        ("regwidth", regwidth),
        ("expthresh", expthresh),
        ("sparseon", sparseon),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                if int(value) != value:
                    raise ValueError
            except (TypeError, ValueError):
                raise HLLFormatError(f"{name} must be an integer, got {value!r}") from None
    log2m, regwidth, expthresh, sparseon = int(log2m), int(regwidth), int(expthresh), int(sparseon)
    if not 0 <= log2m <= MAX_LOG2M:
        raise HLLFormatError(f"log2m modifier must be between 0 and {MAX_LOG2M}, got {log2m}")
    if not 1 <= regwidth <= MAX_REGWIDTH:
        raise HLLFormatError(f"regwidth modifier must be between 1 and {MAX_REGWIDTH}, got {regwidth}")
    if not -1 <= expthresh <= MAX_EXPLICIT:
        raise HLLFormatError(f"expthresh modifier must be between -1 and {MAX_EXPLICIT}, got {expthresh}")
    if expthresh > 0 and expthresh & (expthresh - 1):
        raise HLLFormatError(f"expthresh modifier must be -1, 0 or a power of 2, got {expthresh}")
    if sparseon not in (0, 1):
        raise HLLFormatError(f"sparseon modifier must be 0 or 1, got {sparseon}")
    return Params(log2m, regwidth, expthresh, sparseon)


def params_from_header(byte1: int, byte2: int, type_code: int) -> Params:
    """Params of a stored value; raises HLLFormatError when PostgreSQL would misread them.

    Register-holding and UNDEFINED values may carry any expthresh code (as PostgreSQL
    accepts); EMPTY and EXPLICIT ones, which can still grow explicitly, must be in range.
    """
    log2m = byte1 & 0x1F
    regwidth = (byte1 >> 5) + 1
    code = byte2 & 0x3F
    sparseon = (byte2 >> 6) & 1
    if log2m > MAX_LOG2M:
        raise HLLFormatError(f"log2m {log2m} in the header is larger than {MAX_LOG2M}")
    if regwidth > MAX_REGWIDTH:
        raise HLLFormatError(f"regwidth {regwidth} in the header is larger than {MAX_REGWIDTH}")
    expthresh = decode_expthresh(code)
    if type_code in (TYPE_EMPTY, TYPE_EXPLICIT) and expthresh > MAX_EXPLICIT:
        raise HLLFormatError(f"expthresh {expthresh} in the header is larger than {MAX_EXPLICIT}")
    return Params(log2m, regwidth, expthresh, sparseon)
