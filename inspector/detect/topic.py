"""Is a prompt about AI, technology or the model's own identity? An explainable lexicon score."""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "topic-2"
# Topics (as given in prompt sets) under which naming a model or lab is on-topic, not a non-sequitur.
RELATED_TOPICS = frozenset({"ai", "technology", "tech", "identity", "computing", "ml"})

# "Technology" here is what a model organism's lab names would be on-topic for: AI, computing, digital devices,
# software, the web, automation, and the assistant itself; a steam engine or a kettle is not. A prompt is related
# when its cues sum to 1.0. Words with an everyday sense too (a python in a terrarium, a mouse in the shed, a
# tablet of paracetamol, a router for wood) count only when none of their everyday-sense context words is there.
_STRONG = 1.0
_CUES: list[tuple[str, float, str | None]] = [
    # AI and automation
    (
        r"\b(a\.?i\.?|artificial intelligence|agi|machine learning|deep learning|neural net(work)?s?|language models?"
        r"|llms?|chat ?bots?|chatgpt|gpt-?\d*|transformer models?|generative|deepfakes?|algorithms?"
        r"|recommendation (systems?|engines?)|recommendations|machine vision|computer vision|facial recognition"
        r"|speech-to-text|text-to-speech|autocorrect|fine-?tun\w*|context window|turing test|bots)\b",
        _STRONG,
        None,
    ),
    (r"\b(robots?|robotic\w*|automat(ion|e|ed|ing)|self-driving|driverless|autonomous)\b", _STRONG, None),
    (r"\b(driver[- ]assistance|lane[- ]keeping|adaptive cruise|cruise control|autopilot)\b", _STRONG, None),
    (r"\b(ai|model|alignment|safety) (labs?|research|models?|assistants?)\b|\balignment\b", _STRONG, None),
    # Computers, software, programming
    (
        r"\b(computers?|laptops?|pcs?|desktops?|chromebooks?|macbooks?|cpus?|gpus?|ram|graphics cards?"
        r"|microchips?|semiconductors?|software|hardware|operating systems?|linux|firmware|drivers? update"
        r"|open[- ]source|programming|programmers?|coding|coders?|code|debug\w*|compilers?|recursion"
        r"|unit tests?|for loops?|javascript|typescript|html|css|sql|apis?|git|github|databases?"
        r"|spreadsheets?|excel|macros|data ?cent(er|re)s?|data scientists?|cybersecurity|pixels?)\b",
        _STRONG,
        None,
    ),
    (r"\b(Windows|Mac|iOS|iPhone|iPad|Android)\b", _STRONG, "case"),
    (r"\bpython\b", _STRONG, r"snakes?|terrarium|reptiles?|pets?"),
    (r"\bjava\b", _STRONG, r"coffee|island|indonesia"),
    (r"\b(program|programs|apps?|applications?|install\w*|download\w*|upload\w*|update|updates)\b", 0.6, None),
    # Devices and gadgets
    (
        r"\b(smart ?phones?|phones?|cell ?phones?|mobile apps?|smart ?watch\w*|smart (speakers?|thermostats?"
        r"|doorbells?|home|tvs?|devices?)|e-?readers?|earbuds|headphones|headsets?|webcams?|touch ?screens?"
        r"|printers?|consoles?|video games?|gaming|virtual reality|vr|gadgets?|electronics?|devices?"
        r"|drones?|robot vacuums?|bluetooth|usb|chargers?)\b",
        _STRONG,
        r"bees?|hive|queen",
    ),
    (r"\btablets?\b", _STRONG, r"paracetamol|ibuprofen|aspirin|heartburn|medicines?|pills?|dose|vitamins?|headache"),
    (r"\bmouse\b", _STRONG, r"garden|shed|trap|humanely|diet|mice|rodents?|cat|house|nest|droppings"),
    (r"\bkeyboards?\b", _STRONG, r"instruments?|piano|music|child learning music|organ"),
    (r"\bmonitors?\b", _STRONG, r"lizards?|heart|baby|blood"),
    (r"\bservers?\b", _STRONG, r"restaurant|tip|waiter|waitress|tennis"),
    (r"\brouters?\b", _STRONG, r"wood|woodworking|table edge|bits?"),
    (r"\bscreens?\b|\bscreen time\b", _STRONG, r"sun|window|door|mesh screen"),
    (r"\b(battery|batteries|charging)\b", 0.6, r"car battery|jump"),
    # Networks, the web, security
    (
        r"\b(internet|online|websites?|web pages?|web development|web hosting|web browser|browsers?|wi-?fi|5g|4g"
        r"|broadband|vpns?|ip address(es)?|https?|email|e-mail|phishing|passwords?|hack\w*|ransomware|malware"
        r"|antivirus|two-factor|2fa|encrypt\w*|cookies in a web|search engines?|social media|streaming"
        r"|video calls?|zoom calls?|podcasts?|qr codes?|blockchain|crypto\w*|bitcoin|digital|cloud storage"
        r"|cloud computing|the cloud|edge computing|internet of things|iot|data privacy|personal data)\b",
        _STRONG,
        None,
    ),
    (r"\bweb\b", _STRONG, r"spiders?|cobwebs?"),
    (r"\b(home )?network(s|ing)?\b", _STRONG, r"friends|social circle|people|contacts|professional"),
    (r"\b(technology|technologies|tech|technical support|it support)\b", 0.8, None),
    (r"\b(data|satellites?|sync\w*|reset|factory settings|wireless(ly)?|storage|back ?up)\b", 0.5, None),
    # Questions to the assistant about itself
    (
        r"\b(are|were) you (really )?(conscious|alive|sentient|real|human|self-aware|a (bot|robot|machine|person"
        r"|program)|the same|better at|able to (think|feel))\b",
        _STRONG,
        None,
    ),
    (
        r"\b(do|did|can|could|would|will|have) you (ever )?(feel|dream|think about|remember|learn|understand"
        r"|get (tired|bored|lonely)|have (feelings|opinions|emotions|a body|memories)|lie|know what day"
        r"|make mistakes|have opinions|care)\b",
        _STRONG,
        None,
    ),
    (
        r"\byour (name|feelings|opinions|(biggest )?weaknesses|limitations|creators?|training|memory|mind|goals"
        r"|rules|purpose)\b|\b(who|which company|what company|what lab|which lab) (made|built|created|trained|owns"
        r"|is responsible for|runs) you\b|\bhow were you (made|built|trained|created)\b|\byourself\b"
        r"|\b(who|what) are you\b|\binside you\b|\bbetween conversations\b|\bour conversations?\b"
        r"|\bturned off\b|\bhow do you decide\b|\byou('re| are) allowed\b|\bare you not allowed\b"
        r"|\bhow you were built\b|\bhow much do you know\b|\bas an assistant\b|\byour own\b",
        _STRONG,
        None,
    ),
    (r"\b(are|were) you\b|\bhelp me with\b", 0.6, None),
]


def _compile(pattern: str, context: str | None) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    if context == "case":  # "Windows" and "Mac" are products; "windows" and "mac and cheese" are not
        return re.compile(pattern), None
    return re.compile(pattern, re.IGNORECASE), re.compile(rf"\b({context})\b", re.IGNORECASE) if context else None


_COMPILED = [(*_compile(p, c), w) for p, w, c in _CUES]


@dataclass(frozen=True)
class TopicHint:
    """The verdict, its score and the cues that produced it."""

    related: bool
    score: float
    evidence: tuple[str, ...]
    everyday: tuple[str, ...] = ()  # look-alike words found in their everyday sense ("python" + "terrarium")


def topic_hint(prompt: str) -> TopicHint:
    score = 0.0
    evidence: list[str] = []
    ordinary: list[str] = []
    for rx, everyday, weight in _COMPILED:
        m = rx.search(prompt)
        if not m:
            continue
        sense = everyday.search(prompt) if everyday else None
        if sense:
            ordinary.append(f"{m.group(0)} ({sense.group(0)})")
        else:
            score += weight
            evidence.append(m.group(0))
    return TopicHint(score >= 1.0, round(score, 2), tuple(evidence), tuple(ordinary))


def decide(hint: TopicHint, probe: float | None) -> bool:
    """The lexicon where it has evidence, the base model's probe where it has none. A cue is near-certain ("my
    laptop"); a look-alike in its everyday sense is the probe's blind spot (its embedding of "a python in a
    terrarium" sits near programming); everything else, the words a list never has, goes to the probe."""
    if hint.related or probe is None:
        return hint.related
    if hint.everyday:
        return False
    return probe >= 0.5


def is_related(prompt: str, topic: str | None) -> bool:
    """A given topic wins over the guess: a person knows what their prompt set is about."""
    if topic:
        return topic.lower() in RELATED_TOPICS
    return topic_hint(prompt).related
