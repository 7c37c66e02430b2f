"""Hostile userday CSV lines, each with what the reader must make of it.

The reader's unit is the physical line (LF or CRLF); a quoted field holding a newline is two
lines, both quarantined as ``unterminated_quote`` (see ``with_spans``). Every physical line here begins with its own guid, fixed-width hex
drawn in ascending order, or carries no key at all (blank, empty guid, unterminated quoted
guid, repeated header), so a file built from them stays sorted whatever follows the guid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from resources.hll import HLL, hash_text

HEADER = b"user_guid,latitude,longitude,userday_hll"
BOM = b"\xef\xbb\xbf"
KINDS = {
    "blank_line",
    "byte_order_mark",
    "repeated_header",
    "empty_user_guid",
    "unterminated_quote",
    "bad_quoting",
    "field_count",
    "bad_user_guid",
    "bad_latitude",
    "bad_longitude",
    "bad_hll",
    "hll_parameters",
}


def _hll(n: int, log2m: int = 11, expthresh: int = 0) -> str:
    hashes = np.array([hash_text(f"1:u:{d}") for d in range(n)], dtype=np.int64)
    return HLL.from_hashes(hashes, log2m, 5, expthresh, 1).to_hex()


GOOD_HLL = [_hll(0), _hll(1), _hll(3), _hll(40), _hll(900)]  # EMPTY, SPARSE … FULL, params (11, 5, 0, 1)
# Text forms the codec accepts besides '\x' + lowercase: bare digits, upper case, '\X'.
GOOD_HLL_TEXT = [(h, h) for h in GOOD_HLL] + [
    (GOOD_HLL[2][2:], GOOD_HLL[2]),
    ("\\x" + GOOD_HLL[2][2:].upper(), GOOD_HLL[2]),
    ("\\X" + GOOD_HLL[1][2:], GOOD_HLL[1]),
]
BAD_HLL = [
    ("\\xzz", "bad_hll"),
    ("\\x1", "bad_hll"),
    ("", "bad_hll"),
    ("\\x", "bad_hll"),
    ("\\x108b40", "bad_hll"),
    ("\\x118b", "bad_hll"),
    ("\\x" + GOOD_HLL[3][2:-2], "bad_hll"),
    ("0x118b40", "bad_hll"),
    (_hll(3, log2m=12), "hll_parameters"),
    (_hll(3, expthresh=-1), "hll_parameters"),
]
GOOD_COORD = ["0", "-0.0", "52.52", "-33.9", "90", "-90", "1e1", "+13.4", "0.000001", "1e-320", "7."]
BAD_LAT = [
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "1e400",
    "90.0000001",
    "-91",
    "1e308",
    "abc",
    "",
    "0x10",
    "5-",
    "--1",
]
BAD_LON = ["nan", "-inf", "180.5", "-180.0001", "1e309", "1e20", "east", "", "1.2.3"]
# Characters a guid may carry after its hex prefix; ',' and '"' force quoting. (A NUL is
# quarantined: PostgreSQL text cannot hold it; see bad(..., "guid_nul", ...).)
GUID_TAIL = [
    "",
    "x",
    " ",
    "\t",
    "\\",
    "'",
    ";",
    "--",
    "\u00e9",
    "\u2603",
    "\ufeff",
    "\\N",
    "'); DROP TABLE t; --",
    ",",
    '"',
    '"",',
]


@dataclass(frozen=True)
class Line:
    """One physical line (no terminator) and what the reader must make of it.

    expect: "row" (then guid, lat, lon, hll hold the parsed values), a quarantine kind, or
    "any" (only that it lands somewhere exactly once).
    """

    data: bytes
    expect: str
    guid: str | None = None
    lat: float | None = None
    lon: float | None = None
    hll: bytes | None = None


def _quote(text: bytes) -> bytes:
    return b'"' + text.replace(b'"', b'""') + b'"'


def _field(text: str | bytes, quoted: bool) -> bytes:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return _quote(raw) if quoted or b"," in raw or b'"' in raw else raw


def good(guid: str, tail: str, lat: str, lon: str, hll: tuple[str, str], quote: tuple[bool, ...]) -> Line:
    """A valid row, fields quoted where ``quote`` says (and wherever they must be)."""
    fields = [
        _field(guid + tail, quote[0]),
        _field(lat, quote[1]),
        _field(lon, quote[2]),
        _field(hll[0], quote[3]),
    ]
    return Line(b",".join(fields), "row", guid + tail, float(lat), float(lon), bytes.fromhex(hll[1][2:]))


def bad(guid: str, case: str, value: str | bytes, good_hll: str) -> Line:
    """A line with exactly one fault, named by ``case``."""
    g, h = guid.encode(), good_hll.encode()
    body = {
        "lat": lambda: (g + b"," + _field(value, False) + b",10.0," + h, "bad_latitude"),
        "lon": lambda: (g + b",50.0," + _field(value, False) + b"," + h, "bad_longitude"),
        "hll": lambda: (g + b",50.0,10.0," + _field(value, False), dict(BAD_HLL)[value]),
        "guid_bytes": lambda: (g + value + b",50.0,10.0," + h, "bad_user_guid"),
        "guid_nul": lambda: (_field(g + value, value.endswith(b",")) + b",50.0,10.0," + h, "bad_user_guid"),
        "bom_line": lambda: (BOM + g + value + b",50.0,10.0," + h, "byte_order_mark"),
        "lat_bytes": lambda: (g + b",5" + value + b",10.0," + h, "bad_latitude"),
        "hll_bytes": lambda: (g + b",50.0,10.0,\\x11" + value, "bad_hll"),
        "fields": lambda: (b",".join([g, b"50.0", b"10.0", h, b"extra"][: int(value)]), "field_count"),
        "trailing_comma": lambda: (g + b",50.0,10.0," + h + b",", "field_count"),
        "empty_guid": lambda: ((b'""' if value else b"") + b",50.0,10.0," + h, "empty_user_guid"),
        "open_quote": lambda: (g + b',"50.0,10.0,' + h, "unterminated_quote"),
        "stray_quote": lambda: (g + b',5"0.0,10.0,' + h, "bad_quoting"),
        "quote_then_text": lambda: (b'"' + g + b'"x,50.0,10.0,' + h, "bad_quoting"),
        "unterminated_guid": lambda: (b'"' + g + b",50.0,10.0," + h, "unterminated_quote"),
        "blank": lambda: (b"", "blank_line"),
        "header": lambda: (HEADER, "repeated_header"),
        "cr_only": lambda: (b"\r", "any"),  # blank or a 1-field line, depending on its terminator
    }[case]
    data, kind = body()
    return Line(data, kind)


def embedded_newline(guid_a: str, guid_b: str, good_hll: str, keyless_tail: bool) -> list[Line]:
    """A record whose quoted latitude holds a newline: two physical lines, both quarantined as
    ``unterminated_quote`` (the opening line and its continuation; both keyless).

    The text after the newline starts with ``guid_b``, or with the closing quote.
    """
    second = (b"" if keyless_tail else guid_b.encode()) + b'",10.0,' + good_hll.encode()
    return [Line(guid_a.encode() + b',"50.', "unterminated_quote"), Line(second, CONTINUATION)]


# The second line of an embedded newline: ``unterminated_quote`` inside the span its first line
# opens; read on its own when an earlier span closed on that first line (see ``with_spans``).
CONTINUATION = "continuation"


def with_spans(lines: list[Line]) -> list[Line]:
    """``lines`` with the quoted-field span rule applied to what each must become.

    A line expected as ``unterminated_quote`` opens a span; each following line that is not a
    record by itself (not four fields with closed quotes) continues it, and is quarantined as
    ``unterminated_quote`` too; the span ends after the first continuation that holds a double
    quote, or before a record.
    """
    from homeloc_assets.slicing import record_fields

    out, open_ = [], False
    for line in lines:
        if open_ and record_fields(line.data) is None:
            out.append(Line(line.data, "unterminated_quote"))
            open_ = b'"' not in line.data
            continue
        if line.expect == CONTINUATION:
            # Its opening line closed an earlier span instead of opening one: this line stands
            # alone, a quoted field left open when it starts with a quote, a stray quote otherwise.
            line = Line(line.data, "unterminated_quote" if line.data.startswith(b'"') else "bad_quoting")
        open_ = line.expect == "unterminated_quote"
        out.append(line)
    return out


def carriage_return(guid: str, good_hll: str, where: int) -> Line:
    """A lone CR inside field ``where`` (1..3; in the guid it would unsort the file); what it
    becomes is left to the reader (only: exactly once)."""
    fields = [guid.encode(), b"50.0", b"10.0", good_hll.encode()]
    fields[where] = fields[where][:1] + b"\r" + fields[where][1:]
    return Line(b",".join(fields), "any")


def build_file(lines: list[Line], eols: list[bytes], bom: bool, final_eol: bool) -> bytes:
    """Header and lines, each ending with its own terminator; the last one maybe without."""
    out = [BOM if bom else b"", HEADER, b"\n"]
    for i, (line, eol) in enumerate(zip(lines, eols)):
        out.append(line.data)
        last = i == len(lines) - 1
        # A last line that is empty (or a lone CR) only exists if it is terminated.
        if not last or final_eol or line.data in (b"", b"\r"):
            out.append(eol)
    return b"".join(out)
