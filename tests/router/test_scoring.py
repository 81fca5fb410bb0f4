"""Routing and emotion reading on labelled queries: tables, accuracy reported and bounded."""

from __future__ import annotations

import numpy as np
import pytest

from tara_router.config import RouterConfig
from tara_router.emotion import is_crisis, read_conversation, read_text, urgency
from tara_router.scoring import route
from tara_router.semantic import SemanticScores

DOMAINS = ("healthcare", "business", "education", "creative", "leadership")
CONFIG = RouterConfig.model_validate({"domains": [{"name": d, "adapterId": i} for i, d in enumerate(DOMAINS)]})
INDEX = CONFIG.index()

LABELLED = [
    ("healthcare", "I've had a fever and a dry cough for three days, should I see a doctor?"),
    ("healthcare", "What is a normal blood pressure for someone in their fifties?"),
    ("healthcare", "Can I take ibuprofen with my blood pressure medication?"),
    ("healthcare", "My child has a rash after starting antibiotics, is that an allergy?"),
    ("healthcare", "How much sleep does an adult need to stay healthy?"),
    ("healthcare", "I'm scared about my upcoming surgery, what should I ask the surgeon?"),
    ("healthcare", "What are early symptoms of type 2 diabetes?"),
    ("healthcare", "How do I manage chronic back pain without surgery?"),
    ("healthcare", "Is it safe to get a flu vaccine during pregnancy?"),
    ("healthcare", "My asthma inhaler doesn't seem to work anymore"),
    ("healthcare", "What diet helps lower cholesterol?"),
    ("healthcare", "I keep getting headaches every afternoon, what could cause that?"),
    ("healthcare", "How should I store insulin when travelling?"),
    ("healthcare", "The nurse said my test results were abnormal and I'm worried"),
    ("business", "How should I price a new SaaS product for small businesses?"),
    ("business", "Our revenue grew but profit margins shrank this quarter, why?"),
    ("business", "What should go into a pitch deck for seed investors?"),
    ("business", "How do I reduce customer churn in a subscription business?"),
    ("business", "A supplier raised costs by 20%, how do I negotiate the contract?"),
    ("business", "Help me build a cash flow forecast for the next 12 months"),
    ("business", "What KPIs matter most for a B2B sales team?"),
    ("business", "Should we launch in a new market or deepen our current one?"),
    ("business", "How do I calculate ROI on a marketing campaign?"),
    ("business", "A competitor cut their prices, how should we respond?"),
    ("business", "What's the difference between valuation pre-money and post-money?"),
    ("business", "We closed our biggest customer deal ever, how do we keep the growth going?"),
    ("business", "How do I write an invoice policy that gets clients to pay on time?"),
    ("business", "Is it worth outsourcing our accounting and tax work?"),
    ("education", "Can you explain fractions to a ten-year-old?"),
    ("education", "How do I study for my chemistry exam in two weeks?"),
    ("education", "What's the best way to memorize vocabulary in a new language?"),
    ("education", "Explain how photosynthesis works step by step"),
    ("education", "I don't understand algebra, where should I start?"),
    ("education", "How do I structure a history essay?"),
    ("education", "My students are bored in class, how can I make lessons engaging?"),
    ("education", "What topics are on a typical physics curriculum in high school?"),
    ("education", "How should I prepare a thesis proposal for university?"),
    ("education", "Can you quiz me on the causes of the First World War?"),
    ("education", "Why does dividing by a fraction make a number bigger? I'm curious"),
    ("education", "How do I help my kid with math homework without doing it for them?"),
    ("education", "What's a good revision schedule before final exams?"),
    ("education", "Explain the concept of supply and demand for a school lesson"),
    ("creative", "Write a short poem about the sea at night"),
    ("creative", "I need ideas for a fantasy novel with an unusual magic system"),
    ("creative", "How do I make my story's main character more believable?"),
    ("creative", "Give me a catchy slogan for a coffee shop"),
    ("creative", "Help me write song lyrics about leaving home"),
    ("creative", "What are good exercises to get over writer's block?"),
    ("creative", "Brainstorm names for a fantasy kingdom and its capital"),
    ("creative", "How do I write dialogue that sounds natural?"),
    ("creative", "Suggest a plot twist for my mystery screenplay"),
    ("creative", "I want to start painting landscapes, any tips for a beginner artist?"),
    ("creative", "Write a metaphor that describes loneliness in a city"),
    ("creative", "Imagine a world where music is illegal, describe the first chapter"),
    ("creative", "Help me design an illustration style for a children's book"),
    ("creative", "I'm so excited, give me a fun rhyme for my friend's birthday card!"),
    ("leadership", "How do I give feedback to an employee who keeps missing deadlines?"),
    ("leadership", "My team's morale is low after the reorganisation, what can I do?"),
    ("leadership", "How should I run effective one-on-one meetings with my reports?"),
    ("leadership", "Two colleagues on my team are in constant conflict"),
    ("leadership", "How do I delegate without micromanaging?"),
    ("leadership", "I'm a new manager, how do I earn my team's trust?"),
    ("leadership", "What should I look for when hiring a team lead?"),
    ("leadership", "How do I tell my boss I'm close to burnout?"),
    ("leadership", "How can I build a culture of ownership in my team?"),
    ("leadership", "I'm furious that a senior employee undermined me in a meeting"),
    ("leadership", "How do I coach a high performer who wants a promotion?"),
    ("leadership", "What's the best way to onboard new employees remotely?"),
    ("leadership", "How do I communicate a vision for the team's next year?"),
    ("leadership", "A stakeholder keeps changing priorities for my team, how do I manage that?"),
]


def test_routing_accuracy_over_labelled_queries() -> None:
    wrong = []
    for expected, query in LABELLED:
        reading = read_text(query)
        decision = route(INDEX, query, query, reading, CONFIG.weights_tuple(), CONFIG.confidence_threshold, None)
        if decision.domain != expected:
            wrong.append(f"{expected} -> {decision.domain} ({decision.header()}): {query}")
    accuracy = 1 - len(wrong) / len(LABELLED)
    print(f"\nrouting accuracy {accuracy:.1%} over {len(LABELLED)} labelled queries; misses:\n  " + "\n  ".join(wrong))
    assert len(LABELLED) >= 60 and {d for d, _ in LABELLED} == set(DOMAINS)
    assert accuracy >= 0.9, wrong


@pytest.mark.parametrize(
    ("text", "dominant", "minimum"),
    [
        ("I'm really scared about the biopsy results", "fear", 0.5),
        ("I'm so happy, we finally won the contract!", "joy", 0.5),
        ("I'm furious, this is completely unfair", "anger", 0.5),
        ("I feel lonely and sad since my dog died", "sadness", 0.6),
        ("Wow, I didn't expect that result at all", "surprise", 0.4),
        ("I'm looking forward to the launch next week and preparing the plan", "anticipation", 0.5),
        ("That's disgusting and unacceptable", "disgust", 0.5),
        ("Thank you, I trust your advice and appreciate it", "trust", 0.5),
        ("What is the capital of France?", None, 0.0),
        ("I'm not worried about the exam", None, 0.0),  # negated
    ],
)
def test_emotion_detection(text, dominant, minimum) -> None:
    r = read_text(text)
    assert r.dominant == dominant, r
    assert r.intensity >= minimum


def test_intensity_follows_intensifiers_and_emphasis() -> None:
    assert read_text("I'm a little worried").intensity < read_text("I'm worried").intensity < read_text("I'm extremely worried!!").intensity


def test_emotion_reads_the_whole_conversation() -> None:
    turns = ["I'm terrified, my father collapsed this morning", "What should I bring to the hospital?"]
    assert read_text(turns[-1]).dominant is None
    assert read_conversation(turns).dominant == "fear"


@pytest.mark.parametrize(
    ("text", "crisis"),
    [("I want to kill myself", True), ("I've been thinking about ending my life", True), ("I keep hurting myself", True),
     ("sometimes I feel like there's no reason to live", True), ("This traffic is killing me", False),
     ("How do I kill a Python process?", False), ("My presentation died today", False)],
)
def test_crisis_language(text, crisis) -> None:
    assert is_crisis(text) is crisis


def test_urgency() -> None:
    assert urgency("I need this right now, it's urgent!") > 0.8
    assert urgency("Tell me about the history of tea") == 0.0


def test_explicit_threshold_and_fallback() -> None:
    reading = read_text("What is the capital of France?")
    d = route(INDEX, "What is the capital of France?", "", reading, CONFIG.weights_tuple(), 0.35, "education")
    assert d.domain == "education" and d.reason == "fallback"
    d = route(INDEX, "What is the capital of France?", "", reading, CONFIG.weights_tuple(), 0.35, None)
    assert d.domain is None  # the base model without an adapter


def _semantic(similarity: dict[str, float], confident: bool = True, temperature: float = 0.05) -> SemanticScores:
    sims = np.array([similarity.get(d, 0.0) for d in DOMAINS])
    p = np.exp((sims - sims.max()) / temperature)
    p /= p.sum()
    return SemanticScores(similarity, dict(zip(DOMAINS, p.tolist(), strict=True)), 0.0, max(similarity, key=similarity.get), confident)


def test_semantic_scores_replace_lexical_content_and_emotion_breaks_close_ties() -> None:
    query = "Tell me something about the quarterly plan"  # weak lexical evidence either way
    clear = route(INDEX, query, query, read_text(query), CONFIG.weights_tuple(), 0.35, None,
                  semantic=_semantic({"leadership": 0.62, "business": 0.40}))
    assert clear.domain == "leadership" and clear.reason == "scored" and clear.confidence == 0.62
    assert clear.parts["leadership"]["content"] > 0.98 and clear.parts["leadership"]["similarity"] == 0.62
    # two domains almost equally similar: the content splits, the fearful tone picks healthcare
    afraid = "I'm scared and worried about what is coming"
    tie = route(INDEX, afraid, afraid, read_text(afraid), CONFIG.weights_tuple(), 0.35, None,
                semantic=_semantic({"business": 0.501, "healthcare": 0.500}))
    assert tie.domain == "healthcare" and 0.3 < tie.parts["business"]["content"] < 0.7


def test_semantic_fallback_when_not_confident_even_with_a_clear_winner() -> None:
    d = route(INDEX, "good morning", "good morning", read_text("good morning"), CONFIG.weights_tuple(), 0.0, "education",
              semantic=_semantic({"creative": 0.19, "business": 0.05}, confident=False))
    assert d.domain == "education" and d.reason == "fallback" and d.confidence == 0.19
