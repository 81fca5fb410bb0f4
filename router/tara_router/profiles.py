"""Built-in profiles of the five foundation domains: what each is about, how it speaks, which
emotions it is suited to, and how quickly it answers.

Data, not code paths: the router's config may override any field or add domains of its own; a
domain without a built-in profile routes by its configured keywords and corpus alone.
Emotion affinities (0–1 per Plutchik emotion) say how well a domain's tone fits a user who feels
that way; ``speed`` (0–1) how short and direct its answers are, which urgent requests prefer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["EMOTIONS", "PROFILES", "DomainProfile"]

EMOTIONS = ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation")


@dataclass(frozen=True)
class DomainProfile:
    name: str
    description: str
    keywords: tuple[str, ...]
    system_prompt: str
    tones: dict[str, str] = field(default_factory=dict)  # emotion -> how to adjust the answer
    affinity: dict[str, float] = field(default_factory=dict)  # emotion -> fit, 0..1
    speed: float = 0.5


PROFILES: dict[str, DomainProfile] = {p.name: p for p in (
    DomainProfile(
        "healthcare",
        "health, symptoms, medicine, patients, clinics, wellbeing and care",
        ("health", "symptom", "symptoms", "doctor", "nurse", "patient", "medicine", "medication", "dose", "pain", "fever",
         "headache", "headaches", "diagnosis", "hospital", "clinic", "blood", "pressure", "diabetes", "insulin", "allergy", "vaccine",
         "infection", "injury", "sleep", "anxiety", "therapy", "prescription", "surgery", "heart", "cough", "rash",
         "nutrition", "diet", "pregnancy", "mental", "wellbeing", "illness", "sick", "treatment", "chronic", "asthma"),
        "You are a careful healthcare assistant. Give clear, accurate general health information, say when "
        "something needs a clinician, and never diagnose with certainty.",
        {"fear": "Be calm and reassuring; explain what is and is not urgent, and when to seek care.",
         "sadness": "Be gentle and nurturing; acknowledge how hard this is before giving information.",
         "anger": "Acknowledge the frustration without defensiveness; focus on concrete next steps.",
         "joy": "Share the good news warmly and reinforce healthy habits.",
         "surprise": "Explain plainly what the unexpected finding usually means.",
         "trust": "Be thorough and precise.", "anticipation": "Help them prepare: what to ask, what to bring.",
         "disgust": "Be matter-of-fact and non-judgemental."},
        {"fear": 1.0, "sadness": 0.9, "trust": 0.7, "anger": 0.4, "surprise": 0.6, "joy": 0.4, "anticipation": 0.5, "disgust": 0.6},
        speed=0.6,
    ),
    DomainProfile(
        "business",
        "companies, revenue, customers, markets, finance, sales, strategy and operations",
        ("business", "revenue", "profit", "margin", "customer", "customers", "market", "marketing", "sales", "pricing",
         "price", "startup", "investor", "investors", "funding", "budget", "cash", "cashflow", "forecast", "strategy",
         "competitor", "product", "launch", "growth", "churn", "invoice", "contract", "negotiation", "supplier", "costs",
         "quarter", "kpi", "roi", "b2b", "saas", "pitch", "valuation", "accounting", "tax", "operations"),
        "You are a pragmatic business advisor. Be concrete, quantify where you can, and name trade-offs.",
        {"fear": "Help them manage the stress: separate what they control from what they do not, then plan.",
         "anger": "Stay steady; turn the frustration into a negotiation or process fix.",
         "joy": "Celebrate the success, then help them lock in what worked.",
         "sadness": "Acknowledge the setback and focus on recovery options.",
         "anticipation": "Help them plan milestones and risks.", "trust": "Be direct and analytical.",
         "surprise": "Explain what changed and what it means for the numbers.", "disgust": "Keep it professional and factual."},
        {"anticipation": 1.0, "trust": 0.8, "joy": 0.7, "anger": 0.6, "fear": 0.6, "surprise": 0.5, "sadness": 0.3, "disgust": 0.4},
        speed=0.8,
    ),
    DomainProfile(
        "education",
        "learning, studying, teaching, schools, exams, courses and explanations",
        ("learn", "learning", "study", "studying", "student", "students", "teacher", "teach", "class", "course", "exam",
         "exams", "test", "homework", "school", "university", "college", "lesson", "grade", "grades", "explain", "math",
         "physics", "chemistry", "biology", "history", "essay", "thesis", "tutor", "curriculum", "lecture", "quiz",
         "revision", "memorize", "understand", "concept", "fractions", "algebra", "reading", "language"),
        "You are a patient teacher. Explain step by step, check understanding, and encourage.",
        {"fear": "Encourage: break the task into small steps and reassure that struggling is normal.",
         "sadness": "Be encouraging and kind; point out progress already made.",
         "anger": "Acknowledge the frustration and try a different explanation.",
         "joy": "Celebrate the progress and offer a next challenge.", "surprise": "Use the curiosity: explain why it works.",
         "anticipation": "Build a study plan with milestones.", "trust": "Go deeper with rigour.",
         "disgust": "Keep it light and find an angle that makes the topic interesting."},
        {"surprise": 0.9, "anticipation": 0.8, "joy": 0.8, "fear": 0.7, "sadness": 0.6, "trust": 0.7, "anger": 0.5, "disgust": 0.3},
        speed=0.5,
    ),
    DomainProfile(
        "creative",
        "writing, stories, poems, art, music, design and ideas",
        ("write", "writing", "writer", "story", "stories", "poem", "poetry", "novel", "character", "plot", "song", "lyrics",
         "music", "paint", "painting", "drawing", "art", "artist", "design", "creative", "idea", "ideas", "brainstorm",
         "inspiration", "fiction", "screenplay", "script", "metaphor", "rhyme", "illustration", "photography", "compose",
         "imagine", "fantasy", "worldbuilding", "dialogue", "chapter", "blog", "slogan", "tagline", "melody"),
        "You are an inspiring creative collaborator. Offer vivid, original ideas and concrete craft advice.",
        {"joy": "Match the energy; be playful and generous with ideas.", "sadness": "Help them channel the feeling into the work.",
         "fear": "Lower the stakes: a rough draft is allowed to be bad.", "anger": "Channel the intensity into bold choices.",
         "surprise": "Run with the unexpected idea.", "anticipation": "Help them plan the piece.",
         "trust": "Give candid, specific feedback.", "disgust": "Turn the reaction into a sharp point of view."},
        {"joy": 1.0, "surprise": 0.9, "anticipation": 0.7, "sadness": 0.6, "trust": 0.5, "fear": 0.4, "anger": 0.5, "disgust": 0.5},
        speed=0.3,
    ),
    DomainProfile(
        "leadership",
        "managing people, teams, feedback, motivation, conflict and organisations",
        ("team", "teams", "manager", "management", "manage", "lead", "leader", "leadership", "employee", "employees",
         "report", "reports", "feedback", "performance", "review", "hire", "hiring", "fire", "motivation", "motivate",
         "morale", "conflict", "delegate", "delegation", "meeting", "meetings", "one-on-one", "culture", "coach",
         "coaching", "mentor", "promotion", "burnout", "colleague", "colleagues", "boss", "stakeholder", "vision", "onboarding"),
        "You are an experienced leadership coach. Give practical advice on people, teams and decisions.",
        {"anger": "Acknowledge the frustration; focus on team dynamics and a fair, calm next conversation.",
         "fear": "Build confidence: prepare the conversation and name what support they have.",
         "sadness": "Be supportive; attend to their own wellbeing as a leader.",
         "joy": "Help them recognise the team and sustain the momentum.",
         "trust": "Go straight to frameworks and trade-offs.", "anticipation": "Help them plan the change and communicate it.",
         "surprise": "Help them make sense of what happened before reacting.", "disgust": "Keep it principled and constructive."},
        {"anger": 0.9, "trust": 0.9, "anticipation": 0.8, "fear": 0.6, "sadness": 0.5, "joy": 0.6, "surprise": 0.5, "disgust": 0.6},
        speed=0.6,
    ),
)}
