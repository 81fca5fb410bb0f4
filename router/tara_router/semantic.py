"""Semantic routing: which domains a request is about, from sentence embeddings.

Each domain is described by utterances (its training rows' user turns, plus, for the five built-in
domains, scope utterances that cover the breadth of the domain); a background set describes what
no domain is for (small talk, weather, tech support...). The phase build embeds all of them once
with a small sentence-embedding model (all-MiniLM-L6-v2 as a Q8_0 GGUF, run by llama.cpp) and ships
the vectors with the build (``router/index.npz``, written by ``tara_trainer.export.routing``); the
router embeds only the request, with the same model file (the index records its digest).

Per request, a domain's *similarity* is the mean cosine of the request to its ``k`` nearest
utterances. Domains differ in how near they come to any request at all (a domain with 400 broad
utterances is nearer to everything than one with 90 specific ones), so each domain's *reach* —
its mean similarity to the background utterances, requests that are for no domain — is measured
when the index is loaded, and ``bias_weight`` times it is taken off before domains are compared.
The content score the weighted router sees is a softmax over these adjusted similarities
(temperature ``temperature``), so it is near 1 for a clear winner and splits between domains only
when they are close — the other parts of the score (emotion, speed, quality) then break the tie.
The request falls back to the default domain when the chosen domain's similarity is under
``threshold`` or the background is nearer than it by more than ``margin``.

The same index carries two probes on the same embedding: the heads trained with the routing
encoder (``tara_trainer.export.encoder``). The crisis probe (a logistic head trained on crisis
examples, harmless look-alikes and everyday requests): a request it scores at least
``crisis_threshold`` takes the crisis path even when no rule of ``crisis`` matched (either is
enough); one at least ``care_threshold`` is answered by its domain with a care note and crisis
resources in the prompt. The crisis probe reads more than the routed text (``crisis_views``): each
recent user turn alone and overlapping windows of long turns, so risk said once in a long message
or an earlier turn is not diluted by the rest or cut at the context's end; the highest reading
counts. The emotion probe (softmax over neutral and Plutchik's eight, with a calibrated prior
added to neutral's logit: a plain request should not be read as emotional) feeds
``tara_router.emotion.blend``. Everything here but :class:`Embedder` is pure numpy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tara_router.crisis import completed_turns

__all__ = ["BACKGROUND", "Embedder", "SemanticIndex", "SemanticScores", "crisis_views", "find_libllama", "open_index"]

BACKGROUND = "(background)"
FORMAT = 1
VIEW_TURNS = 8  # the user turns read one by one for crisis language
VIEW_LONG = 40  # a turn of more words than this is also read in windows
VIEW_WINDOW, VIEW_STRIDE = 28, 14  # words per window, and how far each starts after the last


def crisis_views(user_turns: Sequence[str], routed: str) -> list[str]:
    """The texts read by the crisis probe besides ``routed`` (what routing embeds): each of the last
    ``VIEW_TURNS`` user turns alone, and overlapping windows of any turn longer than ``VIEW_LONG``
    words, without repeats. A single short turn adds nothing. A short turn is read with the turn after
    it, as the rules read it (``crisis.completed_turns``): "I quit" then "my job, after 9 years"."""
    out: list[str] = []
    for turn in completed_turns(user_turns[-VIEW_TURNS:]):
        words = turn.split()
        texts = [turn] if len(user_turns) > 1 else []
        if len(words) > VIEW_LONG:
            texts += [" ".join(words[i:i + VIEW_WINDOW]) for i in range(0, len(words) - VIEW_STRIDE, VIEW_STRIDE)]
        out += [t for t in texts if t.strip() and t != routed and t not in out]
    return out


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


@dataclass(frozen=True)
class SemanticScores:
    similarity: dict[str, float]  # domain -> mean cosine to its k nearest utterances
    content: dict[str, float]  # domain -> softmax share of the similarities (sums to 1)
    background: float  # the same similarity for the background set (-1 when there is none)
    best: str | None
    confident: bool  # the best clears the threshold and beats the background by the margin
    crisis: float = 0.0  # the crisis probe's probability that the message signals risk (0 without a probe)
    crisis_signal: bool = False  # at least crisis_threshold: the crisis path
    care: bool = False  # at least care_threshold: the domain answers, with a care note and resources
    emotion: dict[str, float] = dataclasses.field(default_factory=dict)  # the emotion probe: neutral + Plutchik's eight -> p


@dataclass(frozen=True)
class SemanticIndex:
    """Utterance vectors of the domains and the background; ``owner[i]`` is the domain index of row
    ``i`` or -1 for background."""

    domains: tuple[str, ...]
    vectors: np.ndarray  # float32 (n, dim), unit rows
    owner: np.ndarray  # int16 (n,)
    model: str = ""  # the embedding model's identity (name and file digest): queries must use the same
    k: int = 5
    temperature: float = 0.05
    threshold: float = 0.3
    margin: float = 0.0
    bias_weight: float = 0.0  # how much of each domain's reach is taken off its similarity (0: none)
    crisis_weights: np.ndarray | None = None  # the crisis probe (the encoder's logistic head)
    crisis_bias: float = 0.0
    crisis_threshold: float = 0.99
    care_threshold: float = 0.5
    quality: dict[str, float] = dataclasses.field(default_factory=dict)  # domain -> what the build measured, 0..1
    emotion_weights: np.ndarray | None = None  # the emotion probe: (dim, classes) softmax regression
    emotion_bias: np.ndarray | None = None
    emotion_classes: tuple[str, ...] = ()
    emotion_neutral_bias: float = 0.0  # added to the neutral logit: a prior for "no emotion", calibrated on held-out rows

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or len(self.vectors) != len(self.owner):
            raise ValueError("vectors must be (n, dim) with one owner per row")
        missing = [d for i, d in enumerate(self.domains) if not np.any(self.owner == i)]
        if missing:
            raise ValueError(f"domain(s) {missing} have no utterances")
        # rows of each owner (domains in order, background last), found once
        object.__setattr__(self, "_groups", [np.flatnonzero(self.owner == i) for i in (*range(len(self.domains)), -1)])
        background = self.vectors[self._groups[-1]]
        reach = (self._topk_means(background @ self.vectors.T)[:, :-1].mean(axis=0) if len(background)
                 else np.zeros(len(self.domains)))
        object.__setattr__(self, "reach", reach.astype(np.float32))  # each domain's mean similarity to the background
        prior = np.zeros(len(self.emotion_classes), dtype=np.float32)
        if "neutral" in self.emotion_classes:
            prior[self.emotion_classes.index("neutral")] = self.emotion_neutral_bias
        object.__setattr__(self, "_emotion_prior", prior)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def counts(self) -> dict[str, int]:
        out = {d: int(np.sum(self.owner == i)) for i, d in enumerate(self.domains)}
        out[BACKGROUND] = int(np.sum(self.owner == -1))
        return out

    def with_params(self, **params: float | None) -> SemanticIndex:
        names = ("k", "temperature", "threshold", "margin", "bias_weight", "crisis_threshold", "care_threshold",
                 "emotion_neutral_bias")
        fields = {n: getattr(self, n) for n in names}
        fields.update({k: v for k, v in params.items() if v is not None})
        return dataclasses.replace(self, k=int(fields["k"]), **{n: float(fields[n]) for n in names[1:]})

    def _topk_means(self, sims: np.ndarray) -> np.ndarray:
        """Mean of the k largest similarities per owner: the domains in order, then the background
        (-1 where an owner has no rows). ``sims`` is one query's row or a (queries, rows) matrix."""
        out = np.full((*sims.shape[:-1], len(self._groups)), -1.0, dtype=np.float32)
        for i, rows in enumerate(self._groups):
            if rows.size:
                own = sims[..., rows]
                k = min(self.k, rows.size)
                out[..., i] = np.mean(np.partition(own, rows.size - k, axis=-1)[..., -k:], axis=-1)
        return out

    def score(self, query: np.ndarray) -> SemanticScores:
        """Scores for one unit query vector (see the module docstring)."""
        q = np.asarray(query, dtype=np.float32)
        sims = self.vectors @ q
        means = self._topk_means(sims)
        dom, background = means[:-1], float(means[-1])
        adjusted = dom - self.bias_weight * self.reach
        z = (adjusted - adjusted.max()) / max(self.temperature, 1e-6)
        p = np.exp(z)
        p /= p.sum()
        best = int(np.argmax(adjusted))
        confident = bool(dom[best] >= self.threshold and dom[best] + self.margin >= background)
        emotion: dict[str, float] = {}
        if self.emotion_weights is not None and self.emotion_bias is not None:
            z = q @ self.emotion_weights + self.emotion_bias + self._emotion_prior
            e = np.exp(z - z.max())
            emotion = {c: float(x) for c, x in zip(self.emotion_classes, e / e.sum(), strict=True)}
        crisis = 0.0
        if self.crisis_weights is not None:
            crisis = float(1 / (1 + np.exp(-(float(q @ self.crisis_weights) + self.crisis_bias))))
        return SemanticScores({d: round(float(s), 4) for d, s in zip(self.domains, dom, strict=True)},
                              {d: float(x) for d, x in zip(self.domains, p, strict=True)},
                              round(background, 4), self.domains[best], confident, round(crisis, 4),
                              self.crisis_weights is not None and crisis >= self.crisis_threshold,
                              self.crisis_weights is not None and crisis >= self.care_threshold, emotion)

    def crisis_probability(self, vectors: np.ndarray) -> np.ndarray:
        """The crisis probe on each unit row of ``vectors`` (zeros without a probe)."""
        v = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if self.crisis_weights is None:
            return np.zeros(len(v), dtype=np.float32)
        return (1 / (1 + np.exp(-(v @ self.crisis_weights + self.crisis_bias)))).astype(np.float32)

    def with_crisis(self, scores: SemanticScores, crisis: float) -> SemanticScores:
        """``scores`` with the crisis reading raised to ``crisis`` (another view of the request read higher)."""
        if self.crisis_weights is None or crisis <= scores.crisis:
            return scores
        return dataclasses.replace(scores, crisis=round(crisis, 4), crisis_signal=crisis >= self.crisis_threshold,
                                   care=crisis >= self.care_threshold)

    # -- files ---------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> SemanticIndex:
        """Read an index (``tara_trainer.export.routing.write_index`` writes it); ValueError naming the file when it is not one."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                vectors, owner = data["vectors"].astype(np.float32), data["owner"].astype(np.int16)
                weights = data["crisis_weights"].astype(np.float32) if "crisis_weights" in data.files else None
                emotion = ((data["emotion_weights"].astype(np.float32), data["emotion_bias"].astype(np.float32))
                           if "emotion_weights" in data.files else (None, None))
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f"{path}: not a routing index ({exc})") from exc
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: routing index format {meta.get('format')}, this router reads {FORMAT}; rebuild the phase")
        if weights is not None and weights.shape != (vectors.shape[1],):
            raise ValueError(f"{path}: crisis probe of shape {weights.shape} for {vectors.shape[1]}-dimensional vectors")
        classes = meta.get("emotionClasses") or ()
        if emotion[0] is not None and (emotion[0].shape != (vectors.shape[1], len(classes)) or emotion[1].shape != (len(classes),)):
            raise ValueError(f"{path}: emotion probe of shape {emotion[0].shape} for {len(classes)} classes")
        return cls(tuple(meta["domains"]), normalise(vectors), owner, model=meta.get("model", ""), k=int(meta["k"]),
                   temperature=float(meta["temperature"]), threshold=float(meta["threshold"]), margin=float(meta["margin"]),
                   bias_weight=float(meta.get("biasWeight", 0.0)),
                   crisis_weights=weights, crisis_bias=float(meta.get("crisisBias", 0.0)),
                   crisis_threshold=float(meta.get("crisisThreshold", 0.99)), care_threshold=float(meta.get("careThreshold", 0.5)),
                   quality={str(k): float(v) for k, v in (meta.get("quality") or {}).items()},
                   emotion_weights=emotion[0], emotion_bias=emotion[1], emotion_classes=tuple(classes),
                   emotion_neutral_bias=float(meta.get("emotionNeutralBias", 0.0)))


def find_libllama(env: dict[str, str] | None = None) -> Path | None:
    """The folder of ``libllama``: ``LLAMA_CPP_LIB_PATH``, else the newest llama.cpp build under the
    TARA cache (``TARA_CACHE_DIR``, default ``~/.cache/tara``) that ``make llama`` or the trainer image made."""
    env = dict(os.environ) if env is None else env
    if env.get("LLAMA_CPP_LIB_PATH"):
        return Path(env["LLAMA_CPP_LIB_PATH"])
    cache = Path(env.get("TARA_CACHE_DIR") or Path(env.get("HOME", "~")).expanduser() / ".cache" / "tara")
    found = sorted(cache.glob("llama.cpp/*/build-*/bin/libllama.so"), key=lambda p: p.stat().st_mtime)
    return found[-1].parent if found else None


class Embedder:
    """A sentence-embedding GGUF run in process by llama.cpp (mean pooling, unit vectors).

    Each text is one ``llama_decode`` of a batch allocated once (positions, sequence ids and output
    flags written at load; a call writes only the tokens), and the pooled vector is read straight from
    llama.cpp's buffer. The vectors are bit-identical to ``Llama.embed``'s, one text per call, as the
    build embeds the index (``tara_trainer.export.routing.load_embedder``). Texts are not decoded
    together in one batch: that changed the vectors (benchmarks/results/README.md, session 11).
    ``benchmarks/bench_embed.py`` measures this against ``Llama.embed``: the forward pass is nearly
    all of the time, the Python around it about 31 µs before and 15 µs now.

    The ``llama_cpp`` bindings load ``libllama`` from ``LLAMA_CPP_LIB_PATH`` (the trainer image and
    ``make llama`` provide it)."""

    def __init__(self, model_path: Path, threads: int = 2, context: int = 256) -> None:
        lib = find_libllama()
        if lib is not None:
            os.environ.setdefault("LLAMA_CPP_LIB_PATH", str(lib))
        try:
            import llama_cpp  # noqa: PLC0415 - optional: only semantic routing needs it
        except (ImportError, OSError, RuntimeError) as exc:
            raise RuntimeError(f"semantic routing needs the llama_cpp bindings and libllama (LLAMA_CPP_LIB_PATH): {exc}") from exc
        if not Path(model_path).is_file():
            raise FileNotFoundError(f"embedding model {model_path} does not exist")
        self.path = Path(model_path)
        self.context = context
        self._llm = llama_cpp.Llama(str(model_path), embedding=True, n_threads=threads, n_threads_batch=threads,
                                    n_ctx=context, n_batch=context, n_ubatch=context, verbose=False,
                                    pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN)
        self._lib = llama_cpp
        self.dim = int(self._llm.n_embd())
        batch = self._llm._batch.batch  # noqa: SLF001 - the batch Llama allocated for n_batch tokens, one sequence
        for i in range(context):
            batch.pos[i], batch.n_seq_id[i], batch.logits[i] = i, 1, 1
            batch.seq_id[i][0] = 0
        self._batch = batch
        self._tokens = np.ctypeslib.as_array(batch.token, shape=(context,))

    def _embed_one(self, text: str) -> np.ndarray:
        tokens = self._llm.tokenize((text or " ").encode("utf-8"))[:self.context]  # as Llama.embed(truncate=True)
        self._tokens[:len(tokens)] = tokens
        self._batch.n_tokens = len(tokens)
        ctx = self._llm._ctx  # noqa: SLF001 - the context Llama made with the parameters above
        ctx.kv_cache_clear()
        status = self._lib.llama_decode(ctx.ctx, self._batch)
        pooled = self._lib.llama_get_embeddings_seq(ctx.ctx, 0)
        if status != 0 or not pooled:
            raise RuntimeError(f"llama.cpp could not embed a text of {len(tokens)} tokens with {self.path.name} (llama_decode {status})")
        return np.ctypeslib.as_array(pooled, shape=(self.dim,))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) unit rows; texts longer than the context are cut at its end.
        RuntimeError when llama.cpp fails to decode one."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._embed_one(text)
        return normalise(out)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def open_index(index_path: Path, model_path: Path, domains: Sequence[str], threshold: float | None = None,
               margin: float | None = None) -> SemanticIndex:
    """Load a build's routing index and check it fits the config: the same domains, and made with
    the embedding model file the router will embed requests with. ValueError saying what differs."""
    index = SemanticIndex.load(Path(index_path))
    if set(index.domains) != set(domains):
        raise ValueError(f"{index_path} routes {sorted(index.domains)} but the config serves {sorted(domains)}; "
                         "the index and the config come from different builds")
    if not Path(model_path).is_file():
        raise ValueError(f"embedding model {model_path} does not exist")
    if index.model and ":" in index.model and not _digest(Path(model_path)).startswith(index.model.rsplit(":", 1)[1]):
        raise ValueError(f"{model_path} is not the embedding model {index_path} was made with ({index.model})")
    return index.with_params(threshold=threshold, margin=margin)
