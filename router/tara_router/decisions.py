"""Routing decisions and request shaping, without I/O: ``Router`` decides a request's domain
(explicit ``tara-<domain>``, or scored for ``tara-auto`` by sentence embeddings or keywords; LRU-cached),
reads the conversation's emotion and crisis signals, shapes the system prompt (domain prompt, tone,
crisis prompt or care note) and lists the LoRA adapters for llama-server's per-request ``lora`` field."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

from tara_router.config import ConfigError, RouterConfig
from tara_router.emotion import EmotionReading, blend, read_conversation
from tara_router.metrics import Metrics
from tara_router.scoring import Decision, route
from tara_router.semantic import Embedder, SemanticIndex, crisis_views, open_index
from tara_router.settings import RouterSettings
from tara_router.validation import content_text

__all__ = ["AUTO", "BASE", "CARE_NOTE", "CRISIS_PROMPT", "Router"]

log = logging.getLogger("tara_router")
AUTO = "tara-auto"
BASE = "tara-base"  # the base model with every adapter off (offered when the domains are per-request adapters)
CRISIS_PROMPT = ("The person you are talking with may be in crisis. Respond with warmth and without judgement, take "
                 "what they say seriously, encourage them to reach out to someone they trust and to a crisis line now, "
                 "and do not give instructions that could cause harm. Include this guidance: {resources}")


CARE_NOTE = ("This message may hint that the person is struggling or at risk of harming themselves. Answer what they "
             "asked, and if anything suggests distress, respond with care, gently ask how they are doing and include: {resources}")


class Router:
    """Decisions and request shaping (no I/O), plus the upstream URL and the metrics."""

    def __init__(self, config: RouterConfig, settings: RouterSettings, embed: Any = None, metrics_dir: Path | None = None) -> None:
        """``embed`` (texts → unit vectors) replaces the configured embedding model (tests); ``metrics_dir``:
        the metrics are shared there with other worker processes (``Metrics``)."""
        self.config, self.settings = config, settings
        self.weights = config.weights_tuple()
        self.cache: OrderedDict[str, tuple[Decision, EmotionReading]] = OrderedDict()
        # text -> the crisis probe on it alone: a conversation resends its earlier turns every request
        self.view_cache: OrderedDict[str, float] = OrderedDict()
        self.metrics = Metrics(metrics_dir)
        self.upstream = (settings.upstream or config.upstream).rstrip("/")
        self.models: dict[str, str | None] = {d.model_name: d.name for d in config.domains}
        self.adapters = [d for d in config.domains if d.adapter_id is not None]
        if self.adapters:  # a merged model has no base to compare with
            self.models.setdefault(BASE, None)
        self.semantic: SemanticIndex | None = None
        self.embed = embed
        if config.semantic is not None and not Path(config.semantic.index).is_file():
            log.warning("semantic routing is off: %s does not exist (a build made before builds shipped a routing "
                        "index?); routing by keywords and TF-IDF until the phase is rebuilt", config.semantic.index)
        elif config.semantic is not None:
            sem = config.semantic
            try:
                self.semantic = open_index(sem.index, sem.model, [d.name for d in config.domains], sem.threshold, sem.margin)
                if self.embed is None:
                    self.embed = Embedder(sem.model, threads=sem.threads)
            except (ValueError, OSError, RuntimeError) as exc:
                raise ConfigError(f"semantic routing: {exc}") from exc
        # TF-IDF and per-domain parts, built once; the build's measured quality where the config sets none
        self.index = config.index(self.semantic.quality if self.semantic is not None else None)
        self.metrics.semantic.set(1 if self.semantic is not None else 0)

    @staticmethod
    def key(model: str, user_turns: list[str]) -> str:
        return hashlib.sha256(json.dumps([model, user_turns]).encode()).hexdigest()

    @staticmethod
    def query_text(user_turns: list[str]) -> str:
        """What is embedded: the last three user turns (a follow-up reads with what it follows)."""
        return " ".join(user_turns[-3:])

    def wants_vector(self, model: str, user_turns: list[str]) -> bool:
        """Every uncached request is embedded when an index is loaded: ``tara-auto`` to route it, an
        explicit model too, for the semantic crisis check."""
        return self.semantic is not None and self.key(model, user_turns) not in self.cache

    def embed_query(self, user_turns: list[str]) -> Any:
        return self.embed([self.query_text(user_turns)])[0]

    def embed_request(self, user_turns: list[str]) -> tuple[Any, float]:
        """The request's embedding (``embed_query``) and the crisis probe's highest reading of its
        other views (``semantic.crisis_views``: turns alone, windows of long turns; 0 when none),
        in one batch; a view read before is not embedded again."""
        routed = self.query_text(user_turns)
        views = crisis_views(user_turns, routed)
        fresh = [v for v in views if v not in self.view_cache]
        vectors = self.embed([routed, *fresh])
        if fresh and self.semantic is not None:
            for text, p in zip(fresh, self.semantic.crisis_probability(vectors[1:]), strict=True):
                self.view_cache[text] = float(p)
                if len(self.view_cache) > max(self.settings.cache_size, 1) * 4:
                    self.view_cache.popitem(last=False)
        return vectors[0], max((self.view_cache.get(v, 0.0) for v in views), default=0.0)

    def crisis_probability(self, user_turns: list[str]) -> float:
        """The crisis probe's reading of a request: the highest over the routed text and its views."""
        vector, views = self.embed_request(user_turns)
        return max(float(self.semantic.crisis_probability(vector)[0]), views) if self.semantic is not None else 0.0

    def decide(self, model: str, user_turns: list[str], query_vector: Any = None,
               view_crisis: float | None = None) -> tuple[Decision, EmotionReading]:
        """The domain for a request (cached). With semantic routing, ``query_vector`` and
        ``view_crisis`` are what ``embed_request`` returns; when absent they are computed here."""
        key = self.key(model, user_turns)
        hit = self.cache.get(key)
        if hit is not None:
            self.cache.move_to_end(key)
            self.metrics.cache.labels("hit").inc()
            return hit
        self.metrics.cache.labels("miss").inc()
        reading = read_conversation(user_turns)
        semantic = None
        if self.semantic is not None:
            if query_vector is None or view_crisis is None:
                query_vector, view_crisis = self.embed_request(user_turns)
            semantic = self.semantic.with_crisis(self.semantic.score(query_vector), view_crisis)
            reading = blend(reading, semantic.emotion)  # the emotion probe reads what the lexicon cannot
            if semantic.crisis_signal and not reading.crisis:  # no rule matched; the meaning did
                reading = dataclasses.replace(reading, crisis=True)
                self.metrics.crisis_semantic.inc()
            elif semantic.care and not reading.crisis:
                reading = dataclasses.replace(reading, care=True)
        if model in self.models:
            decision = Decision(self.models[model], "explicit", 1.0)
        else:
            last = user_turns[-1] if user_turns else ""
            decision = route(self.index, last, " ".join(user_turns), reading, self.weights,
                             self.config.confidence_threshold, self.config.default_domain, semantic=semantic)
        if reading.crisis:
            safe = "healthcare" if self.config.domain("healthcare") else decision.domain
            decision = Decision(safe, "crisis", 1.0, decision.scores, decision.parts)
        if self.settings.cache_size:
            self.cache[key] = (decision, reading)
            if len(self.cache) > self.settings.cache_size:
                self.cache.popitem(last=False)
        return decision, reading

    def lora(self, domain: str | None) -> list[dict[str, Any]] | None:
        if not self.adapters:
            return None
        return [{"id": d.adapter_id, "scale": d.scale if d.name == domain else 0.0} for d in self.adapters]

    def model_name(self, domain: str) -> str:
        """The public model name of a domain (``tara-<domain>`` unless the config names it)."""
        d = self.config.domain(domain)
        return d.model_name if d else f"tara-{domain}"

    def system_prompt(self, domain: str | None, reading: EmotionReading) -> str | None:
        if reading.crisis:
            return CRISIS_PROMPT.format(resources=self.settings.crisis_resources)
        parts: list[str | None] = []
        if domain is not None:
            parts.append(self.config.system_prompt(domain))
            tone = self.config.tone(domain, reading.dominant)
            if tone:
                strength = "strongly" if reading.intensity >= 0.6 else "gently"
                parts.append(f"The user seems to feel {reading.dominant} ({reading.intensity:.0%}); {strength} adapt: {tone}")
        if reading.care:
            parts.append(CARE_NOTE.format(resources=self.settings.crisis_resources))
        text = " ".join(p for p in parts if p)
        return text or None

    def with_system(self, messages: list[dict[str, Any]], decision: Decision, reading: EmotionReading) -> list[dict[str, Any]]:
        """``messages`` with our system prompt first, merged into the client's own system message if any."""
        ours = self.system_prompt(decision.domain, reading)
        if not ours:
            return messages
        if messages[0].get("role") == "system":  # one system message: chat templates often allow only one
            theirs = content_text(messages[0].get("content"))
            return [{"role": "system", "content": f"{ours}\n\n{theirs}"}, *messages[1:]]
        return [{"role": "system", "content": ours}, *messages]
