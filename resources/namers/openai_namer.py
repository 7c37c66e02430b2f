"""Names and pen portraits from the OpenAI Responses API, checked, cached, with an offline fallback."""

from __future__ import annotations

import dataclasses
import json
import logging
import time

import openai

from resources.namers.backoff import RETRYABLE_STATUSES, Backoff, retry_after_seconds
from resources.namers.base import ClusterName, ClusterProfile, NamingReport, naming_order
from resources.namers.cache import NameCache, cache_key
from resources.namers.offline import OfflineNamer
from resources.namers.prompt import INSTRUCTIONS, PROMPT_VERSION, TEXT_FORMAT, cluster_input, correction
from resources.namers.rules import validate_name

log = logging.getLogger(__name__)

# Answers that no retry will change for any cluster: stop asking for the rest of the region.
_FATAL_STATUSES = {401: "the API key was rejected", 403: "access denied", 404: "model or endpoint not found"}

# Clusters in a row whose requests failed on every attempt (timeouts, dropped connections, 429, 5xx)
# before the API is taken to be down for the rest of the region: an outage then costs two clusters'
# retries and backoff, not every cluster's (with 60 s timeouts, minutes per cluster).
OUTAGE_AFTER_CLUSTERS = 2


class ApiFailure(Exception):
    """No usable answer for a cluster. The message is written here: never the server's error text, never the key."""

    def __init__(self, reason: str, fatal: bool = False, unavailable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fatal = fatal
        self.unavailable = unavailable  # every attempt failed without an answer from the model


@dataclasses.dataclass
class _Run:
    report: NamingReport
    taken: set[str]
    disabled: str | None = None  # reason the API is no longer asked in this run
    unavailable_in_row: int = 0  # clusters in a row that got no answer at all


class OpenAINamer:
    """Asks a model for each cluster's name and pen portrait (strict JSON schema), one request per cluster.

    Answers breaking the rules are retried once with the problems stated, then replaced by the
    offline namer's name; so are requests that still fail after `max_retries` retries. Once
    OUTAGE_AFTER_CLUSTERS clusters in a row got no answer at all, the rest of the region is named
    offline without asking (cached answers are still used).
    """

    def __init__(
        self,
        api_key: str,
        model: str = "gpt-5-mini",
        base_url: str | None = None,
        cache: NameCache | None = None,
        timeout: float = 60,
        max_retries: int = 4,
        fallback: OfflineNamer | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ValueError("OpenAINamer needs a non-empty API key")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        self.model = model
        self.base_url = base_url
        self.cache = cache
        self.timeout = timeout
        self.max_retries = max_retries
        self.fallback = fallback or OfflineNamer()
        self.backoff = backoff or Backoff()
        # Retries are ours (see _create), so the client's own are off.
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
        self._redact = lambda text: text.replace(api_key, "[redacted]")

    def __repr__(self) -> str:
        return f"OpenAINamer(model={self.model!r}, base_url={self.base_url!r}, cache={self.cache!r})"

    def name_clusters(self, profiles: list[ClusterProfile], region_name: str) -> NamingReport:
        """Names for all of a region's clusters, supergroups first, unique within the region."""
        run = _Run(NamingReport(), set())
        names_by_code: dict[str, str] = {}
        for profile in naming_order(profiles):
            named = self._name_one(profile, region_name, names_by_code.get(profile.parent or ""), run)
            run.taken.add(named.name)
            names_by_code[profile.code] = named.name
            run.report.names.append(named)
        return run.report

    def _name_one(
        self, profile: ClusterProfile, region_name: str, parent_name: str | None, run: _Run
    ) -> ClusterName:
        key = cache_key(profile, region_name, parent_name, self.model, PROMPT_VERSION)
        cached = self.cache.get(key) if self.cache else None
        if cached and not validate_name(cached["name"], cached["description"], run.taken):
            run.report.cache_hits += 1
            log.info("%s: %r from the name cache", profile.code, cached["name"])
            return self._named(profile, cached["name"], cached["description"])
        if run.disabled:
            return self._fallback(profile, region_name, parent_name, run, run.disabled)
        try:
            request = cluster_input(profile, region_name, parent_name, sorted(run.taken))
            name, description = self._ask(profile.code, request, run)
        except ApiFailure as failure:
            self._note_failure(failure, run)
            return self._fallback(profile, region_name, parent_name, run, failure.reason)
        run.unavailable_in_row = 0
        if self.cache:
            entry = {
                "name": name,
                "description": description,
                "model": self.model,
                "prompt_version": PROMPT_VERSION,
            }
            self.cache.put(key, entry)
        log.info("%s: %r from %s", profile.code, name, self.model)
        return self._named(profile, name, description)

    @staticmethod
    def _note_failure(failure: ApiFailure, run: _Run) -> None:
        """Stop asking for the rest of the run after a fatal answer, or once the API looks down."""
        if failure.fatal:
            run.disabled = failure.reason
            return
        run.unavailable_in_row = run.unavailable_in_row + 1 if failure.unavailable else 0
        if run.unavailable_in_row >= OUTAGE_AFTER_CLUSTERS:
            run.disabled = (
                f"the API gave no answer for {run.unavailable_in_row} clusters in a row "
                f"(last: {failure.reason}), so it was not asked for the rest of the region"
            )

    def _ask(self, code: str, request: str, run: _Run) -> tuple[str, str]:
        """(name, description) from the model, asking once more with the problems if the first answer breaks rules."""
        text_input = request
        for _ in range(2):
            response = self._create(text_input, run.report)
            if response.usage is not None:
                run.report.input_tokens += response.usage.input_tokens
                run.report.output_tokens += response.usage.output_tokens
            answer, name, description, problems = _read_answer(response, run.taken)
            if not problems:
                return name, description
            log.warning("%s: model answer rejected: %s", code, self._redact("; ".join(problems)))
            text_input = request + correction(problems, answer)
        raise ApiFailure("model answer rejected twice: " + "; ".join(problems))

    def _named(self, profile: ClusterProfile, name: str, description: str) -> ClusterName:
        return ClusterName(profile.code, name, description, "openai", self.model, PROMPT_VERSION)

    def _create(self, text_input: str, report: NamingReport):
        """One Responses API answer, retrying timeouts, dropped connections, 408/409/429 and 5xx."""
        reason, retry_after = "", None
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff.delay(attempt - 1, retry_after))
            retry_after = None
            report.api_calls += 1
            try:
                return self._client.responses.create(
                    model=self.model,
                    instructions=INSTRUCTIONS,
                    input=text_input,
                    text=TEXT_FORMAT,
                    store=False,
                )
            except openai.APITimeoutError:
                reason = f"request timed out after {self.timeout:g} s"
            except openai.APIConnectionError:
                reason = "connection to the API failed"
            except openai.APIStatusError as exc:
                reason = f"HTTP {exc.status_code}"
                if exc.status_code not in RETRYABLE_STATUSES:
                    meaning = _FATAL_STATUSES.get(exc.status_code, "request refused")
                    raise ApiFailure(
                        f"{reason}: {meaning}", fatal=exc.status_code in _FATAL_STATUSES
                    ) from None
                retry_after = retry_after_seconds(exc.response.headers)
            except openai.OpenAIError as exc:
                raise ApiFailure(f"unexpected client error ({type(exc).__name__})") from None
            log.info("API request failed (%s), attempt %d of %d", reason, attempt + 1, self.max_retries + 1)
        raise ApiFailure(f"{reason} on all {self.max_retries + 1} attempts", unavailable=True)

    def _fallback(
        self, profile: ClusterProfile, region_name: str, parent_name: str | None, run: _Run, reason: str
    ) -> ClusterName:
        reason = self._redact(reason)
        offline = self.fallback.name_profile(profile, region_name, run.taken, parent_name)
        run.report.fallbacks.append(f"{profile.code}: {reason}")
        log.warning("%s: using the offline name %r because %s", profile.code, offline.name, reason)
        return dataclasses.replace(offline, fallback_reason=reason)


def _read_answer(response, taken: set[str]) -> tuple[str, str, str, list[str]]:
    """(raw text, name, description, problems) of a Responses API answer."""
    status = getattr(response, "status", None)
    if status not in (None, "completed"):
        details = getattr(response, "incomplete_details", None)
        return "", "", "", [f"response is {status}" + (f" ({details.reason})" if details else "")]
    try:
        text = response.output_text
    except (AttributeError, TypeError):
        return "", "", "", ["response has no readable output"]
    if not text.strip():
        return text, "", "", ["answer is empty (the model may have refused)"]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return text, "", "", [f"answer is not valid JSON ({exc.msg} at character {exc.pos})"]
    if (
        not isinstance(data, dict)
        or set(data) != {"name", "description"}
        or not all(isinstance(v, str) for v in data.values())
    ):
        return (
            text,
            "",
            "",
            ['answer does not match the schema: an object with only the strings "name", "description"'],
        )
    name = " ".join(data["name"].split()).strip("\"'. ")
    description = data["description"].strip()
    return text, name, description, validate_name(name, description, taken)
