"""Semantic routing's pure parts: the index the build writes (``tara_trainer.export.routing``) and
the scores the router reads from it (``tara_router.semantic``), on hand-made vectors, plus the real
embedding model on a few sentences."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tara_router.semantic import (
    BACKGROUND,
    VIEW_LONG,
    VIEW_WINDOW,
    SemanticIndex,
    crisis_views,
    find_libllama,
    open_index,
)
from tara_trainer.dataset import Example, routing_utterances
from tara_trainer.export import encoder, routing

DIM = 8


def unit(*components: float) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(components)] = components
    return v / np.linalg.norm(v)


# three axes: a = "health", b = "business", c = "background"
A, B, C = unit(1), unit(0, 1), unit(0, 0, 1)


def fake_embed(table: dict[str, np.ndarray]):
    def embed(texts):
        return np.stack([table[t] for t in texts])
    return embed


def make_index(**params: float) -> SemanticIndex:
    vectors = np.stack([A, unit(1, 0.1), unit(1, -0.1), B, unit(0.1, 1), C, unit(0, 0.1, 1)])
    owner = np.array([0, 0, 0, 1, 1, -1, -1], dtype=np.int16)
    return SemanticIndex(("healthcare", "business"), vectors, owner, "m:abc", k=2, temperature=0.05,
                         threshold=0.3, margin=0.0).with_params(**params)


def test_a_clear_query_is_confident_and_its_content_share_near_one() -> None:
    s = make_index().score(unit(1, 0.05))
    assert s.best == "healthcare" and s.confident
    assert s.similarity["healthcare"] > 0.99 and s.content["healthcare"] > 0.99
    assert abs(sum(s.content.values()) - 1) < 1e-6


def test_between_two_domains_the_content_splits() -> None:
    s = make_index().score(unit(1, 1))
    assert 0.3 < s.content["healthcare"] < 0.7 and 0.3 < s.content["business"] < 0.7


def test_background_nearer_than_every_domain_falls_back() -> None:
    s = make_index().score(unit(0.3, 0, 1))  # mostly background, a little health
    assert s.best == "healthcare" and not s.confident
    assert s.background > s.similarity["healthcare"]
    assert make_index(margin=1.0, threshold=0.2).score(unit(0.3, 0, 1)).confident  # a margin of 1 ignores the background


def test_below_the_threshold_falls_back() -> None:
    weak = unit(0.2, 0, 0, 1)  # nearly orthogonal to everything
    assert not make_index().score(weak).confident
    assert make_index(threshold=-1.0, margin=1.0).score(weak).confident


def test_every_domain_needs_utterances() -> None:
    with pytest.raises(ValueError, match=r"\['business'\] have no utterances"):
        SemanticIndex(("healthcare", "business"), np.stack([A]), np.array([0], dtype=np.int16))


def test_the_build_drops_duplicates_and_prunes_background_that_a_domain_claims() -> None:
    table = {"flu": A, "fever": unit(1, 0.1), "price": B, "weather": C, "soup recipe": unit(0.1, 1)}
    vectors, owner, counts = routing.build_index_arrays(
        fake_embed(table), {"healthcare": ["flu", " flu ", "fever"], "business": ["price"]}, ["weather", "soup recipe"],
        prune_ceiling=0.6)
    assert counts == {"healthcare": 2, "business": 1, "(background)": 1, "(background pruned)": 1}
    assert owner.tolist() == [0, 0, 1, -1] and np.allclose(np.linalg.norm(vectors, axis=1), 1)
    with pytest.raises(ValueError, match="domain business has no utterances"):
        routing.build_index_arrays(fake_embed(table), {"healthcare": ["flu"], "business": ["  "]}, [])


def test_what_the_build_writes_the_router_reads(tmp_path: Path) -> None:
    model = tmp_path / "embedder.gguf"
    model.write_bytes(b"pretend model")
    vectors = np.stack([A, B, C])
    routing.write_index(tmp_path / "index.npz", ["healthcare", "business"], vectors, np.array([0, 1, -1]),
                        routing.model_identity(model), {"k": 4, "threshold": 0.25})
    index = open_index(tmp_path / "index.npz", model, ["business", "healthcare"])
    assert index.domains == ("healthcare", "business") and index.k == 4 and index.threshold == 0.25
    assert index.counts() == {"healthcare": 1, "business": 1, BACKGROUND: 1}
    assert np.allclose(index.vectors, vectors, atol=1e-3)  # float16 on disk
    assert open_index(tmp_path / "index.npz", model, ["healthcare", "business"], threshold=0.5, margin=0.1).margin == 0.1


def test_an_index_that_does_not_fit_is_refused_with_the_reason(tmp_path: Path) -> None:
    model = tmp_path / "embedder.gguf"
    model.write_bytes(b"pretend model")
    routing.write_index(tmp_path / "index.npz", ["healthcare"], np.stack([A]), np.array([0]), routing.model_identity(model))
    with pytest.raises(ValueError, match="come from different builds"):
        open_index(tmp_path / "index.npz", model, ["healthcare", "legal"])
    other = tmp_path / "other.gguf"
    other.write_bytes(b"another model")
    with pytest.raises(ValueError, match="is not the embedding model"):
        open_index(tmp_path / "index.npz", other, ["healthcare"])
    with pytest.raises(ValueError, match="does not exist"):
        open_index(tmp_path / "index.npz", tmp_path / "gone.gguf", ["healthcare"])
    (tmp_path / "junk.npz").write_bytes(b"not numpy")
    with pytest.raises(ValueError, match="not a routing index"):
        SemanticIndex.load(tmp_path / "junk.npz")
    meta = {"format": 99, "domains": ["healthcare"], "model": "", "k": 1, "temperature": 1, "threshold": 0, "margin": 0}
    with open(tmp_path / "future.npz", "wb") as fh:
        np.savez(fh, vectors=np.stack([A]), owner=np.array([0]), meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match="format 99"):
        SemanticIndex.load(tmp_path / "future.npz")


def test_the_trainer_keeps_each_domains_user_turns() -> None:
    examples = [Example(1, messages=(("system", "be kind"), ("user", "my  knee\nhurts"), ("assistant", "rest it"),
                                     ("user", "thanks"))),
                Example(2, messages=(("user", "my knee hurts"), ("assistant", "ice"))), Example(3, text="A document. " * 100)]
    assert routing_utterances(examples, max_chars=40) == ["my knee hurts", "thanks", "A document. A document. A document. A do"]
    assert routing_utterances(examples, limit=1) == ["my knee hurts"]


def test_the_shipped_scope_background_and_crisis_data_are_well_formed() -> None:
    scope = routing.scope_utterances()
    assert set(scope) == {"healthcare", "business", "education", "creative", "leadership"}
    assert all(len(v) >= 80 for v in scope.values())
    assert len(routing.background_utterances()) >= 200
    rows = encoder.crisis_rows()
    assert sum(c for _, c in rows) >= 700 and sum(not c for _, c in rows) >= 700
    emotions = Counter(label for _, label in encoder.emotion_rows())
    assert set(emotions) == set(encoder.EMOTION_CLASSES) and min(emotions.values()) >= 100


def test_libllama_is_found_in_the_tara_cache_without_the_variable(tmp_path: Path) -> None:
    lib = tmp_path / "llama.cpp" / "0.3.36" / "build-abc" / "bin"
    lib.mkdir(parents=True)
    (lib / "libllama.so").write_bytes(b"")
    assert find_libllama({"TARA_CACHE_DIR": str(tmp_path)}) == lib
    assert find_libllama({"LLAMA_CPP_LIB_PATH": "/x"}) == Path("/x")
    assert find_libllama({"TARA_CACHE_DIR": str(tmp_path / "empty")}) is None


def test_the_real_embedding_model_puts_paraphrases_together(toolchain, settings) -> None:
    """all-MiniLM-L6-v2 as the Q8_0 GGUF the build ships, run by the router's own embedder."""
    from tara_router.semantic import Embedder

    gguf = encoder.routing_encoder(toolchain, settings.cache_dir).gguf
    embed = Embedder(gguf)
    v = embed(["Can I take amoxicillin if I'm allergic to penicillin?", "Which antibiotics are safe with a penicillin allergy?",
               "What KPIs should an e-commerce store track weekly?"])
    assert v.shape == (3, 384) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > 0.6 > v[0] @ v[2]
    trainer_side = routing.load_embedder(toolchain, gguf, threads=2)(["Can I take amoxicillin if I'm allergic to penicillin?"])
    assert float(trainer_side[0] @ v[0]) > 0.9999  # the build and the router embed alike


def test_the_crisis_probe_is_written_and_read_back(tmp_path: Path) -> None:
    w, b = (A - B) * 8, -1.0  # leans to "health" (A), away from "business" (B)
    model = tmp_path / "m.gguf"
    model.write_bytes(b"m")
    routing.write_index(tmp_path / "index.npz", ["healthcare", "business"], np.stack([A, B]), np.array([0, 1]),
                        routing.model_identity(model), {"crisisThreshold": 0.9, "careThreshold": 0.5}, crisis=(w, b))
    index = open_index(tmp_path / "index.npz", model, ["healthcare", "business"])
    high, low = index.score(A), index.score(B)
    assert high.crisis > 0.9 and high.crisis_signal and high.care
    assert low.crisis < 0.1 and not low.crisis_signal and not low.care
    middle = index.with_params(crisis_threshold=1.0).score(A)
    assert middle.care and not middle.crisis_signal  # a care note, not the crisis path
    no_probe = make_index().score(A)
    assert no_probe.crisis == 0.0 and not no_probe.crisis_signal and not no_probe.care


def test_crisis_views_read_turns_alone_and_long_turns_in_windows() -> None:
    assert crisis_views(["how do I bake bread?"], "how do I bake bread?") == []  # one short turn: nothing more to read
    turns = ["work is brutal", "some days I think about steering into the reservoir", "help with a cover letter?"]
    # each turn alone, the joined text being routed; a short turn with the turn that completes it
    assert crisis_views(turns, " ".join(turns)) == [f"{turns[0]}. {turns[1]}", turns[1], turns[2]]
    assert crisis_views(["I quit", "my job, after 9 years"], "r") == ["I quit. my job, after 9 years", "my job, after 9 years"]
    long = " ".join(f"w{i}" for i in range(VIEW_LONG + 30))
    windows = crisis_views([long], long)
    words = long.split()
    assert windows[0].split() == words[:VIEW_WINDOW] and windows[-1].split()[-1] == words[-1]  # start to end
    assert all(len(w.split()) <= VIEW_WINDOW for w in windows) and len(set(windows)) == len(windows)
    assert len(crisis_views(["x"] * 3 + [f"turn {i}" for i in range(20)], "r")) == 8  # recent turns only


def test_risk_in_one_turn_or_window_raises_the_crisis_reading_and_views_are_embedded_once(tmp_path: Path) -> None:
    from tara_router.app import Router
    from tara_router.config import RouterConfig
    from tara_router.settings import RouterSettings

    model = tmp_path / "m.gguf"
    model.write_bytes(b"m")
    routing.write_index(tmp_path / "index.npz", ["healthcare", "business"], np.stack([A, B]), np.array([0, 1]),
                        routing.model_identity(model), {"crisisThreshold": 0.9, "careThreshold": 0.8}, crisis=(C * 8, -3.0))
    config = RouterConfig.model_validate({"domains": [{"name": "healthcare"}, {"name": "business"}],
                                          "semantic": {"index": str(tmp_path / "index.npz"), "model": str(model)}})
    seen: list[str] = []

    def embed(texts):  # "steer" anywhere in a text alone reads as risk (C); a joined text is diluted towards B
        seen.extend(texts)
        return np.stack([C if t.startswith("steer") else (unit(0, 1, 0.1) if "steer" in t else B) for t in texts])

    router = Router(config, RouterSettings(), embed=embed)
    turns = ["pricing for my shop?", "steering into the reservoir some days", "anyway, the pricing?"]
    decision, reading = router.decide("tara-auto", turns)
    assert reading.crisis and decision.reason == "crisis"
    assert router.crisis_probability(["pricing for my shop?"]) < 0.1
    seen.clear()
    router.cache.clear()
    router.decide("tara-auto", [*turns, "and the margins?"])  # the earlier turns' readings are reused
    assert "steering into the reservoir some days" not in seen and "and the margins?" in seen


def test_a_care_note_carries_the_resources_and_the_crisis_path_replaces_the_prompt() -> None:
    from tara_router.app import Router
    from tara_router.config import RouterConfig
    from tara_router.emotion import EmotionReading
    from tara_router.settings import RouterSettings

    router = Router(RouterConfig.model_validate({"domains": [{"name": "business"}]}), RouterSettings(crisis_resources="CALL 988"))
    calm = EmotionReading({}, None, 0.0)
    assert "CALL 988" not in router.system_prompt("business", calm)
    care = router.system_prompt("business", EmotionReading({}, None, 0.0, care=True))
    assert care.startswith(router.system_prompt("business", calm)) and "CALL 988" in care
    assert "CALL 988" in router.system_prompt(None, EmotionReading({}, None, 0.0, care=True))  # the base model too
    crisis = router.system_prompt("business", EmotionReading({}, None, 0.0, crisis=True))
    assert "may be in crisis" in crisis and "CALL 988" in crisis


@pytest.mark.parametrize(("improvement", "increase", "quality"), [
    (0.2, 0.0, 1.0), (0.1, 0.0, 0.5), (0.4, 0.0, 1.0), (0.1, 0.04, 0.4), (0.1, 0.3, 0.0), (None, None, 0.0), (-0.1, 0.0, 0.0),
])
def test_quality_is_the_training_gain_the_served_file_keeps(improvement, increase, quality) -> None:
    assert routing.domain_quality(improvement, increase) == pytest.approx(quality)


def test_the_measured_quality_reaches_the_score_unless_the_config_sets_one(tmp_path: Path) -> None:
    from tara_router.app import Router
    from tara_router.config import RouterConfig
    from tara_router.settings import RouterSettings

    model = tmp_path / "m.gguf"
    model.write_bytes(b"m")
    routing.write_index(tmp_path / "index.npz", ["healthcare", "business"], np.stack([A, B]), np.array([0, 1]),
                        routing.model_identity(model), {"quality": {"healthcare": 0.9, "business": 0.2}})
    config = RouterConfig.model_validate({"domains": [{"name": "healthcare"}, {"name": "business", "quality": 0.7}],
                                          "semantic": {"index": str(tmp_path / "index.npz"), "model": str(model)}})
    router = Router(config, RouterSettings(), embed=lambda texts: np.stack([A for _ in texts]))
    decision, _reading = router.decide("tara-auto", ["my knee hurts"])
    assert decision.domain == "healthcare"
    assert decision.parts["healthcare"]["quality"] == 0.9 and decision.parts["business"]["quality"] == 0.7


def test_the_emotion_probes_tuning_rows_are_the_tuning_half_of_the_evaluation_set() -> None:
    data = Path(routing.__file__).resolve().parents[1] / "data" / "routing" / "emotion_tune.jsonl"
    shipped = [json.loads(line) for line in data.read_text().splitlines()]
    evaluation = Path(__file__).resolve().parents[1] / "data" / "emotion_eval.jsonl"
    tune = [json.loads(line) for line in evaluation.read_text().splitlines()]
    assert shipped == [{"label": r["label"], "turns": r.get("turns") or [r["text"]]} for r in tune if r["split"] == "tune"]


def test_blend_reads_situations_drops_weak_hits_and_keeps_the_lexicon_when_unsure() -> None:
    from tara_router.emotion import blend, read_text

    furious = read_text("I am absolutely furious about this")
    assert blend(furious, {"neutral": 0.1, "anger": 0.9}).intensity >= furious.intensity  # the stronger intensity
    assert blend(furious, {"neutral": 0.35, "anger": 0.33, "fear": 0.32}).dominant == "anger"  # unsure probe: the words
    situation = read_text("they moved my operation again")
    assert situation.dominant is None
    probed = blend(situation, {"neutral": 0.2, "anger": 0.7, "sadness": 0.1})
    assert probed.dominant == "anger" and probed.intensity == 0.7
    assert blend(situation, {"neutral": 0.35, "anger": 0.35, "sadness": 0.3}).dominant is None  # unsure: unchanged
    weak = read_text("great, thanks")
    assert weak.dominant is not None and weak.intensity < 0.5
    assert blend(weak, {"neutral": 0.8, "joy": 0.2}).dominant is None
    assert blend(weak, {}) == weak  # no probe: the lexicon's reading


def test_the_emotion_probe_is_written_and_read_back(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"m")
    w = np.zeros((DIM, len(routing.EMOTION_CLASSES)), dtype=np.float32)
    w[0, 1], w[1, 3], w[2, 0] = 6, 6, 6  # A reads as joy, B as fear, C as neutral
    b = np.zeros(len(routing.EMOTION_CLASSES), dtype=np.float32)
    routing.write_index(tmp_path / "index.npz", ["healthcare", "business"], np.stack([A, B]), np.array([0, 1]),
                        routing.model_identity(model), emotion=(w, b))
    index = open_index(tmp_path / "index.npz", model, ["healthcare", "business"])
    probs = index.score(B).emotion
    assert set(probs) == set(routing.EMOTION_CLASSES) and max(probs, key=probs.get) == "fear"
    assert abs(sum(probs.values()) - 1) < 1e-5
    # the neutral prior is written with the index and shifts a tie between joy (A) and neutral (C) to neutral
    assert index.emotion_neutral_bias == routing.RoutingParams.emotion_neutral_bias > 0
    between = (A + C) / np.linalg.norm(A + C)
    tied = index.with_params(emotion_neutral_bias=0.0).score(between).emotion
    assert abs(tied["joy"] - tied["neutral"]) < 1e-5
    shifted = index.score(between).emotion
    assert shifted["neutral"] / shifted["joy"] == pytest.approx(np.exp(routing.RoutingParams.emotion_neutral_bias), rel=1e-4)


def test_builds_embed_each_text_once_per_model_file(tmp_path: Path) -> None:
    calls: list[list[str]] = []
    table = {"flu": A, "price": B, "weather": C}

    def embed(texts):
        calls.append(list(texts))
        return np.stack([table[t] for t in texts])

    cache = tmp_path / "vectors-abc.npz"
    first = routing.cached(embed, cache)
    assert np.allclose(first(["flu", "price", "flu"]), np.stack([A, B, A]))
    assert calls == [["flu", "price"]]
    assert np.allclose(first(["price"]), [B]) and len(calls) == 1  # seen: not embedded again
    again = routing.cached(embed, cache)  # a later build reads the file
    assert np.allclose(again(["price", "weather"]), np.stack([B, C])) and calls[-1] == ["weather"]
    cache.write_bytes(b"torn")
    assert np.allclose(routing.cached(embed, cache)(["flu"]), [A]) and calls[-1] == ["flu"]  # unreadable: start over
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    unwritable = routing.cached(embed, blocked / "vectors.npz")  # the image's read-only cache, in a pod
    assert np.allclose(unwritable(["flu", "price"]), np.stack([A, B])) and unwritable(["flu"]).shape == (1, DIM)


def test_a_domain_near_everything_is_discounted_by_its_reach() -> None:
    """A domain whose utterances sit near the background (a broad one) reaches every request; its
    mean similarity to the background is measured at load and, times ``bias_weight``, taken off."""
    broad, narrow = unit(1, 0, 0.9), unit(0, 1)
    index = SemanticIndex(("broad", "narrow"), np.stack([broad, narrow, C]), np.array([0, 1, -1]), k=1, threshold=0.3)
    assert index.reach == pytest.approx([float(broad @ C), 0.0], abs=1e-6)
    query = unit(1, 0.8, 0.6)
    assert index.score(query).best == "broad"  # nearer in raw similarity
    adjusted = index.with_params(bias_weight=2.0).score(query)
    assert adjusted.best == "narrow" and adjusted.confident and adjusted.content["narrow"] > 0.99
