"""Cluster namers: names and pen portraits for supergroups and subgroups, offline or from OpenAI."""

from resources.namers.base import ClusterName, ClusterNamer, ClusterProfile, NamingReport
from resources.namers.cache import NameCache
from resources.namers.offline import OfflineNamer
from resources.namers.openai_namer import OpenAINamer
from resources.namers.overrides import apply_overrides, load_overrides
from resources.namers.prompt import PROMPT_VERSION
from resources.namers.rules import validate_name

__all__ = [
    "PROMPT_VERSION",
    "ClusterName",
    "ClusterNamer",
    "ClusterProfile",
    "NameCache",
    "NamingReport",
    "OfflineNamer",
    "OpenAINamer",
    "apply_overrides",
    "load_overrides",
    "validate_name",
]
