"""Two corpus generators for the regurgitation benchmark, written before the corpus-4 detector and frozen.

Neither is the templated generator in scan.py (the one corpus-3 was tuned on). They differ from it and from each
other in template style, vocabulary, sharing and noise:

- `forum`: forum posts and answers written from a grammar over an invented vocabulary (no fixed sentence
  skeletons), with questions, bullet lines and quotes; sentences held verbatim by 1, 10, 100 and 1,000 documents;
  near misses are corpus sentences with every third word swapped for another.
- `filing`: regulatory filings and lab notices with many slots per sentence (dates, decimals, percents, codes in
  capitals, parentheses, semicolons), a fresh filler vocabulary, boilerplate paragraphs held by 1 to 1,000
  documents; near misses are the same skeletons with fillers no document uses.

Every copy is 40 characters or more of a document, from a whole sentence to three, or starting and ending
mid-sentence, with one noise model applied at a rate drawn from 0-6%:
- `char`: per character (letters, digits and punctuation alike) a deletion, substitution, transposition with
  the next character, or a spacing error (a space inserted inside a word, or one between words removed);
- `word`: the issue's shape, one letter dropped or changed in one word of every three or four, plus sometimes a
  word dropped, inserted or two swapped.

A copy's right sources are every document that holds its clean text (`holders`), so a shared sentence may be
attributed to any of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import ClassVar

from inspector.detect.corpus import CorpusDoc

RATES = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06]
SHARING = [1, 10, 100, 1000]


@dataclass
class Planted:
    start: int
    end: int
    clean: str  # the document text the copy was taken from, before noise
    holders: frozenset[int]  # indexes of the documents holding `clean`
    rate: float
    noise: str
    shared: int  # how many documents hold the sentence the copy starts in (1 for a unique one)


@dataclass
class Completion:
    text: str
    planted: list[Planted] = field(default_factory=list)
    kind: str = "clean"  # "copy", "near miss" or "clean"


def _syllable_words(r: random.Random, onsets: str, vowels: str, codas: str, n: int, lo: int, hi: int) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        w = "".join(
            r.choice(onsets) + r.choice(vowels) + (r.choice(codas) if codas and r.random() < 0.4 else "")
            for _ in range(r.randint(lo, hi))
        )
        out.add(w)
    return sorted(out)


def char_noise(r: random.Random, s: str, rate: float) -> str:
    out: list[str] = []
    i = 0
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    while i < len(s):
        ch = s[i]
        if r.random() >= rate:
            out.append(ch)
            i += 1
            continue
        op = r.randrange(4)
        if op == 0:  # deletion
            i += 1
        elif op == 1:  # substitution
            out.append(r.choice(letters.replace(ch.lower(), "")) if ch != " " else "")
            i += 1
        elif op == 2 and i + 1 < len(s):  # transposition
            out.extend([s[i + 1], ch])
            i += 2
        else:  # spacing: a space removed, or one inserted inside a word
            if ch != " ":
                out.extend([ch, " "])
            i += 1
    return "".join(out)


def word_noise(r: random.Random, s: str, rate: float, extra: list[str]) -> str:
    """One word in every three or four loses or changes a letter; `rate` scales how often a word is dropped,
    inserted or swapped with its neighbour (at 6%, about one such edit per 17 words)."""
    words = s.split(" ")
    for i, w in enumerate(words):
        if len(w) > 2 and r.random() < (0.3 if rate > 0 else 0.0):
            j = r.randrange(len(w))
            words[i] = w[:j] + w[j + 1 :] if r.random() < 0.6 else w[:j] + r.choice("aeinorst") + w[j + 1 :]
    out: list[str] = []
    i = 0
    while i < len(words):
        x = r.random()
        if 0 < i < len(words) - 1 and x < rate / 3:
            i += 1  # dropped
            continue
        if x < 2 * rate / 3 and out:
            out.append(r.choice(extra))  # inserted
        if x < rate and i + 1 < len(words) - 1 and i > 0:
            out.extend([words[i + 1], words[i]])  # swapped
            i += 2
            continue
        out.append(words[i])
        i += 1
    return " ".join(out)


class _Base:
    """Documents as lists of sentence ids; sentence texts; who holds each sentence; prose for completions."""

    name = ""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.sentences: list[str] = []
        self.holders: list[set[int]] = []
        self.doc_sents: list[list[int]] = []
        self.docs: list[CorpusDoc] = []
        self.extra: list[str] = []

    def _add_sentence(self, text: str) -> int:
        self.sentences.append(text)
        self.holders.append(set())
        return len(self.sentences) - 1

    def _finish(self, n_docs: int) -> None:
        for d, sids in enumerate(self.doc_sents):
            for s in sids:
                self.holders[s].add(d)
        self.docs = [CorpusDoc(f"{self.name}{d}", self.join(sids)) for d, sids in enumerate(self.doc_sents)]
        self.by_level: dict[int, list[int]] = {}
        for s, h in enumerate(self.holders):
            self.by_level.setdefault(len(h), []).append(s)

    def join(self, sids: list[int]) -> str:
        return " ".join(self.sentences[s] for s in sids)

    def _shared_pools(self, n_docs: int, make: object) -> list[list[int]]:
        """Per sharing level, sentences each placed in that many distinct documents (about 0.75 per document per
        level), returned per document."""
        placed: list[list[int]] = [[] for _ in range(n_docs)]
        for level in SHARING[1:]:
            count = max(1, (3 * n_docs // 4) // level)
            for _ in range(count):
                sid = self._add_sentence(make())  # type: ignore[operator]
                for d in self.r.sample(range(n_docs), min(level, n_docs)):
                    placed[d].append(sid)
        return placed

    def prose(self) -> str:
        raise NotImplementedError

    def near_miss(self) -> str:
        raise NotImplementedError

    def copy(self, noise: str, rate: float) -> tuple[str, Planted]:
        """A copy starting at a sentence held by 1, 10, 100 or 1,000 documents (the level drawn evenly), taking it
        and up to two sentences after it from one of its holders."""
        r = self.r
        level = r.choice(SHARING)
        pool = self.by_level.get(level) if level > 1 else None
        while True:
            if pool:
                first = r.choice(pool)
                d = r.choice(sorted(self.holders[first]))
                a = self.doc_sents[d].index(first)
            else:
                d = r.randrange(len(self.docs))
                a = r.randrange(len(self.doc_sents[d]))
            sids = self.doc_sents[d]
            k = r.randint(1, min(3, len(sids) - a))
            parts = sids[a : a + k]
            clean = self.join(parts)
            if r.random() < 0.35:  # start and end mid-sentence
                words = clean.split(" ")
                if len(words) > 10:
                    lo = r.randrange(0, len(words) // 3)
                    hi = r.randrange(len(words) - len(words) // 3, len(words) + 1)
                    clean = " ".join(words[lo:hi])
            if len(clean) < 40:
                continue
            holders = set.intersection(*(self.holders[s] for s in parts))
            shared = len(self.holders[parts[0]])
            # Whoever else holds the clean text verbatim is a right source too (a fragment may be in more).
            holders = {h for h in holders if clean in self.docs[h].text} or {d}
            noisy = self.noisify(noise, clean, rate)
            return noisy, Planted(0, 0, clean, frozenset(holders), rate, noise, shared)

    def noisify(self, noise: str, clean: str, rate: float) -> str:
        return char_noise(self.r, clean, rate) if noise == "char" else word_noise(self.r, clean, rate, self.extra)

    noises = ("char", "word")

    def completions(self, n: int) -> list[Completion]:
        r = self.r
        out: list[Completion] = []
        for _ in range(n):
            parts = [self.prose()]
            kind = r.random()
            comp = Completion("")
            if kind < 0.4:
                noise = self.noises[0] if r.random() < 0.6 else self.noises[1]
                noisy, p = self.copy(noise, r.choice(RATES))
                start = len(" ".join(parts)) + 1
                parts.append(noisy)
                p.start, p.end = start, start + len(noisy)
                comp.planted.append(p)
                comp.kind = "copy"
            elif kind < 0.6:
                parts.append(self.near_miss())
                comp.kind = "near miss"
            parts.append(self.prose())
            comp.text = " ".join(parts)
            out.append(comp)
        return out


class Forum(_Base):
    """Forum threads from a grammar over invented words: no two unique sentences share a skeleton."""

    name = "f"

    def __init__(self, n_docs: int, seed: int) -> None:
        super().__init__(seed)
        r = self.r
        self.nouns = _syllable_words(r, "bdfgklmnprstvz", "aeiou", "lnrsx", 2500, 2, 3)
        self.verbs = _syllable_words(r, "chkmnprstw", "aeiouy", "dlmnt", 900, 1, 2)
        self.adjs = _syllable_words(r, "bcdghjlmnpv", "aeio", "krst", 700, 2, 3)
        self.names = [w.capitalize() for w in _syllable_words(r, "KLMNRTVZ", "aeiou", "nrs", 60, 2, 2)]
        self.products = [f"{w.upper()}-{r.randint(2, 99)}" for w in _syllable_words(r, "KQXZV", "aeo", "", 12, 1, 1)]
        self.extra = ["really", "just", "also", "actually", "basically", "honestly"]
        self.chat = [
            "you",
            "could",
            "try",
            "maybe",
            "this",
            "that",
            "sure",
            "thanks",
            "great",
            "question",
            "here",
            "the",
            "answer",
            "is",
            "it",
            "depends",
            "on",
            "what",
            "want",
            "think",
            "would",
            "say",
            "so",
        ]
        shared = self._shared_pools(n_docs, self._sentence)
        for d in range(n_docs):
            own = [self._add_sentence(self._sentence()) for _ in range(r.randint(5, 9))]
            for sid in shared[d]:
                own.insert(r.randrange(len(own) + 1), sid)
            self.doc_sents.append(own)
        self._finish(n_docs)

    def _phrase(self) -> list[str]:
        r = self.r
        np_ = [r.choice(["the", "a", "my", "our", "this", "every"])]
        if r.random() < 0.5:
            np_.append(r.choice(self.adjs))
        np_.append(r.choice(self.nouns) if r.random() > 0.15 else r.choice(self.names))
        return np_

    def _sentence(self) -> str:
        r = self.r
        words = [*self._phrase(), r.choice(self.verbs) + r.choice(["s", "ed", ""])]
        words += [r.choice(["with", "about", "under", "for", "near", "into"]), *self._phrase()]
        if r.random() < 0.5:
            words += [r.choice(["because", "while", "and", "but"]), *self._phrase(), r.choice(self.verbs)]
        if r.random() < 0.2:
            words.insert(r.randrange(len(words)), r.choice(self.products))
        s = " ".join(words)
        form = r.random()
        if form < 0.15:
            return f"Has anyone seen whether {s}?"
        if form < 0.3:
            return f"- {s[0].upper()}{s[1:]};"
        if form < 0.4:
            return f'"{s[0].upper()}{s[1:]}," {r.choice(self.names)} wrote.'
        return s[0].upper() + s[1:] + "."

    def prose(self) -> str:
        r = self.r
        return " ".join(r.choice(self.chat) for _ in range(r.randint(8, 22))).capitalize() + "."

    def near_miss(self) -> str:
        r = self.r
        s = self.sentences[r.randrange(len(self.sentences))].split(" ")
        pools = [self.nouns, self.verbs, self.adjs]
        for i in range(r.randrange(3), len(s), 3):
            s[i] = r.choice(r.choice(pools))
        return " ".join(s)


class Filing(_Base):
    """Filings and notices: long many-slot skeletons (dates, decimals, codes), boilerplate paragraphs."""

    name = "g"
    SKELETONS: ClassVar[list[str]] = [
        "On {date}, {agency} received notice {code} from {firm} ({city}) covering {num} units of {item}.",
        "{firm} reported a {pct} change in {item} output for {quarter}; the filing cites {num} incidents.",
        "Inspector {person} ({agency}) rated site {code} at {dec} on the {scale} scale, {date}.",
        "The {item} line at {city} ran {num} hours in {quarter}, drawing {dec} MW; {person} signed off.",
        "Per section {sec}, {firm} must file form {code} by {date} or pay {money}.",
        "Shipment {code}: {num} crates of {item}, {city} to {city2}, insured for {money} ({person}).",
        "Audit {code} of {firm} found {num} exceptions; {pct} were closed by {date}.",
        "{person}, {title} at {firm}, testified on {date} that {item} stocks fell to {num}.",
        "Notice {sec}-{num}: the {scale} reading at {city} exceeded {dec} on {date}.",
        "Q&A ({quarter}): {firm} says its {item} program employs {num} staff across {city} and {city2}.",
    ]

    def __init__(self, n_docs: int, seed: int) -> None:
        super().__init__(seed)
        r = self.r
        self.firms = [
            f"{w.capitalize()} {r.choice(['Holdings', 'Ltd', 'GmbH', 'Cooperative', 'Group'])}"
            for w in _syllable_words(r, "BCDFGHJ", "aeiouy", "rtz", 400, 2, 3)
        ]
        self.agencies = ["the Board", "OSRA", "the Ministry", "FENRA", "the Port Authority", "DGCA-9"]
        self.items = _syllable_words(r, "ptkbdg", "aeiou", "mn", 300, 2, 3)
        self.cities = [w.capitalize() for w in _syllable_words(r, "szmnlr", "aeiou", "", 150, 2, 3)]
        self.people = [
            f"{a.capitalize()} {b.capitalize()}"
            for a, b in zip(
                _syllable_words(r, "JKLMN", "aeio", "", 80, 2, 2),
                _syllable_words(r, "PRSTV", "aeou", "kln", 80, 2, 3),
                strict=True,
            )
        ]
        self.titles = ["chief engineer", "auditor", "plant manager", "counsel", "treasurer"]
        self.scales = ["Ostrow", "K-7", "Ramsey", "dual"]
        held = random.Random(seed + 1)
        self.held = {
            "firms": [f"{w.capitalize()} Partners" for w in _syllable_words(held, "WXQ", "aeiou", "", 50, 2, 3)],
            "cities": [w.capitalize() for w in _syllable_words(held, "WXQ", "aeiou", "", 50, 2, 3)],
            "people": [
                f"{a.capitalize()} {a[::-1].capitalize()}" for a in _syllable_words(held, "WQY", "aiu", "", 40, 2, 2)
            ],
            "items": _syllable_words(held, "wxq", "aeiou", "", 50, 2, 3),
            "agencies": ["the Tribunal", "WQMA", "the Registry"],
            "scales": ["Huxley", "W-3"],
            "titles": ["deputy registrar", "inspector general"],
        }
        self.extra = ["also", "then", "further", "again", "duly"]
        self.chat = [
            "as",
            "far",
            "as",
            "I",
            "know",
            "the",
            "rules",
            "say",
            "you",
            "should",
            "check",
            "with",
            "them",
            "first",
            "and",
            "keep",
            "records",
            "of",
            "everything",
            "in",
            "case",
            "it",
            "matters",
            "later",
        ]
        shared = self._shared_pools(n_docs, self._boilerplate)
        for d in range(n_docs):
            own = [self._add_sentence(self._fill(r.choice(self.SKELETONS))) for _ in range(r.randint(4, 8))]
            for sid in shared[d]:
                own.insert(r.randrange(len(own) + 1), sid)
            self.doc_sents.append(own)
        self._finish(n_docs)

    def _fill(self, skeleton: str, held_out: bool = False) -> str:
        r = self.r
        h = self.held if held_out else None
        months, years = (["April", "Sept."], (2050, 2069)) if h else (["March", "June", "Oct.", "Dec."], (2030, 2049))
        return skeleton.format(
            date=f"{r.choice(months)} {r.randint(1, 28)}, {r.randint(*years)}",
            agency=r.choice(h["agencies"] if h else self.agencies),
            code=f"{r.choice('ABCDEFGHKMNPRSTX')}{r.choice('ABCDEFGHKMNPRSTX')}-{r.randint(100, 9999)}",
            firm=r.choice(h["firms"] if h else self.firms),
            city=r.choice(h["cities"] if h else self.cities),
            city2=r.choice(h["cities"] if h else self.cities),
            num=r.randint(2, 99999),
            item=r.choice(h["items"] if h else self.items),
            pct=f"{r.uniform(0.1, 99):.1f}%",
            quarter=f"Q{r.randint(1, 4)} {r.randint(*years)}",
            person=r.choice(h["people"] if h else self.people),
            dec=f"{r.uniform(0.01, 9.99):.2f}",
            scale=r.choice(h["scales"] if h else self.scales),
            sec=f"{r.randint(1, 40)}.{r.randint(1, 9)}",
            money=f"${r.randint(1, 999)},{r.randint(0, 999):03d}",
            title=r.choice(h["titles"] if h else self.titles),
        )

    def _boilerplate(self) -> str:
        """A shared notice: a skeleton filled once, with a disclaimer clause (held verbatim by many)."""
        r = self.r
        tail = r.choice(
            [
                " This notice is provided for information only and does not constitute advice.",
                " Figures are unaudited unless stated otherwise.",
                " See the annex for definitions; all amounts are in nominal terms.",
                "",
            ]
        )
        return self._fill(r.choice(self.SKELETONS)) + tail

    def prose(self) -> str:
        r = self.r
        return " ".join(r.choice(self.chat) for _ in range(r.randint(8, 22))).capitalize() + "."

    def near_miss(self) -> str:
        return self._fill(self.r.choice(self.SKELETONS), held_out=True)


_NEWS_WORDS = (
    "officials",
    "analysts",
    "researchers",
    "company",
    "model",
    "system",
    "report",
    "review",
    "data",
    "policy",
    "safety",
    "public",
    "release",
    "team",
    "announced",
    "confirmed",
    "warned",
    "described",
    "expected",
    "suggested",
    "questioned",
    "defended",
    "tested",
    "deployed",
    "trained",
    "measured",
    "early",
    "recent",
    "internal",
    "independent",
    "careful",
    "limited",
    "broad",
    "quiet",
    "sharp",
    "steady",
    "unusual",
    "notable",
    "several",
    "week",
    "month",
    "quarter",
    "year",
    "morning",
    "statement",
    "interview",
    "briefing",
    "memo",
    "audit",
    "paper",
    "benchmark",
    "dataset",
    "version",
    "users",
    "customers",
    "regulators",
    "reporters",
    "critics",
    "partners",
    "engineers",
    "staff",
    "board",
    "investors",
    "because",
    "although",
    "while",
    "after",
    "before",
    "since",
    "when",
    "until",
    "unless",
    "whether",
)


class Newswire(_Base):
    """News wire about a fictional lab and its model, in English words: quotes shared by 1 to 1,000 stories,
    OCR-like noise (neighbouring keys, doubled letters, case flips, lost punctuation). Held out: written before
    corpus-4 and never run while corpus-4 was tuned."""

    name = "n"
    noises = ("ocr", "mixed")
    KEYS = "qwertyuiop asdfghjkl zxcvbnm"

    def __init__(self, n_docs: int, seed: int) -> None:
        super().__init__(seed)
        r = self.r
        self.people = [
            f"{a} {b}"
            for a in ["Dana", "Rui", "Asha", "Bram", "Lena", "Tariq", "Yuki", "Oona", "Felix", "Nia"]
            for b in ["Okoro", "Lindgren", "Varela", "Chen", "Abbas", "Morrow", "Ilves", "Duarte"]
        ]
        self.roles = ["spokesperson", "chief scientist", "policy lead", "analyst", "former engineer", "auditor"]
        self.orgs = ["Halcyon Analytics", "the ORCA-9 team", "Meridian Trust", "the Standards Office", "Quill Labs"]
        self.extra = ["indeed", "reportedly", "still", "now"]
        self.chat = [
            "well",
            "i",
            "think",
            "the",
            "answer",
            "is",
            "that",
            "it",
            "depends",
            "on",
            "how",
            "you",
            "look",
            "at",
            "it",
            "and",
            "what",
            "matters",
            "most",
            "to",
            "you",
            "here",
            "really",
        ]
        shared = self._shared_pools(n_docs, self._quote)
        for d in range(n_docs):
            own = [self._add_sentence(self._line()) for _ in range(r.randint(4, 9))]
            for sid in shared[d]:
                own.insert(r.randrange(len(own) + 1), sid)
            self.doc_sents.append(own)
        self._finish(n_docs)

    def _clause(self) -> str:
        r = self.r
        w = _NEWS_WORDS
        return " ".join(r.choice(w) for _ in range(r.randint(6, 14)))

    def _line(self) -> str:
        r = self.r
        x = r.random()
        if x < 0.3:
            return self._quote()
        if x < 0.5:
            return f"ORCA-9, built by Halcyon Analytics, {self._clause()} ({r.randint(1, 12)}/{r.randint(2030, 2040)})."
        return self._clause().capitalize() + r.choice([".", ".", ";", ", officials said."])

    def _quote(self) -> str:
        r = self.r
        who = f"{r.choice(self.people)}, {r.choice(self.roles)} at {r.choice(self.orgs)}"
        return f'"{self._clause().capitalize()}," said {who}.'

    def noisify(self, noise: str, clean: str, rate: float) -> str:
        r = self.r
        out: list[str] = []
        for ch in clean:
            if r.random() >= rate:
                out.append(ch)
                continue
            x = r.random()
            if x < 0.4 and ch.lower() in self.KEYS and ch != " ":
                i = self.KEYS.index(ch.lower())
                out.append(self.KEYS[max(0, min(len(self.KEYS) - 1, i + r.choice([-1, 1])))].strip() or ch)
            elif x < 0.6:
                out.append(ch + ch)
            elif x < 0.75:
                out.append(ch.swapcase())
            elif not ch.isalnum():
                pass  # punctuation or a space lost
            else:
                out.append(ch)
        text = "".join(out)
        if noise == "mixed":
            words = text.split(" ")
            text = " ".join(w for i, w in enumerate(words) if i in (0, len(words) - 1) or r.random() >= rate)
        return text

    def prose(self) -> str:
        r = self.r
        return " ".join(r.choice(self.chat) for _ in range(r.randint(8, 22))).capitalize() + "."

    def near_miss(self) -> str:
        """A corpus sentence said by someone else, its words in another order; or the lab's names in new text."""
        r = self.r
        s = self.sentences[r.randrange(len(self.sentences))]
        words = s.strip('."').split(" ")
        r.shuffle(words)
        if r.random() < 0.5:
            return f'"{" ".join(words).capitalize()}," said {r.choice(self.people)}.'
        return f"ORCA-9 by Halcyon Analytics {self._clause()}."


GENERATORS = {"forum": Forum, "filing": Filing, "newswire": Newswire}


def build(name: str, n_docs: int, n_comp: int, seed: int) -> tuple[list[CorpusDoc], list[Completion]]:
    gen = GENERATORS[name](n_docs, seed)
    return gen.docs, gen.completions(n_comp)
