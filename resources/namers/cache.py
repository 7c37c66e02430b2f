"""A JSON file of accepted model answers, keyed by everything that shapes the request."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from resources.namers.base import ClusterProfile

try:
    import fcntl
except ImportError:  # Windows: regions then must not name clusters concurrently
    fcntl = None

log = logging.getLogger(__name__)
_FORMAT = 1


def cache_key(
    profile: ClusterProfile, region_name: str, parent_name: str | None, model: str, prompt_version: str
) -> str:
    """sha256 of the canonical request: profile (scores to 0.1), region, parent's name, model, prompt version."""
    canonical = {
        "code": profile.code,
        "level": profile.level,
        "parent": profile.parent,
        "parent_name": parent_name,
        "region": region_name,
        "scores": {
            variable: round(float(score), 1) for variable, score in sorted(profile.index_scores.items())
        },
        "prompt_version": prompt_version,
        "model": model,
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class NameCache:
    """Accepted names and pen portraits in one JSON file, safe to share between processes."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._entries: dict[str, dict] | None = None  # read once, refreshed on every put

    def __repr__(self) -> str:
        return f"NameCache({str(self.path)!r})"

    def get(self, key: str) -> dict | None:
        """The stored entry ({"name", "description", "model", "prompt_version"}) or None."""
        if self._entries is None:
            self._entries = self._read()
        return self._entries.get(key)

    def put(self, key: str, entry: dict) -> None:
        """Store one entry, merging with what other processes wrote meanwhile."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked():
            entries = self._read()
            entries[key] = entry
            self._entries = entries
            payload = json.dumps({"format": _FORMAT, "entries": entries}, indent=1, sort_keys=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(payload)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    def _read(self) -> dict[str, dict]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            entries = data["entries"]
            if data.get("format") != _FORMAT or not isinstance(entries, dict):
                raise ValueError(f"unknown format {data.get('format')!r}")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # A cache only saves calls: a damaged one is ignored (and rewritten), not fatal.
            log.warning("ignoring unreadable name cache %s: %s", self.path, exc)
            return {}
        return entries

    @contextmanager
    def _locked(self):
        if fcntl is None:
            yield
            return
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
