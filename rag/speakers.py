"""Rule-based person-name detection and pronoun / title resolution.

No NER model: a person name is a run of 2-4 capitalised tokens for which the
context gives *evidence* of a person (a title such as "Prime Minister" or
"spokesman", a role-bearing appositive such as ", senior research fellow ...",
or an adjacent speech verb such as "told" / "said X" / "according to X").
Runs containing organisation/place head words, acronyms, months or weekdays
are rejected. Later single-token mentions ("Peskov") resolve to the full name
introduced earlier ("Dmitry Peskov").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "Mention",
    "PersonIndex",
    "ROLE_WORDS",
    "SPEECH_VERBS",
    "find_person_mentions",
    "index_persons",
    "resolve_speaker",
]


@dataclass(frozen=True)
class Mention:
    name: str  # full name as first introduced, e.g. "Dmitry Peskov"
    start: int
    end: int


# Verbs that introduce or characterise reported speech.
SPEECH_VERBS = frozenset(
    """said says say told tells noted added adds insisted insists
    characterized characterised characterizes characterises claimed
    warned warns stated explained explains argued argues wrote writes
    asked asks replied replies responded responds acknowledged acknowledges
    admitted admits announced announces declared declares stressed stresses
    emphasized emphasised emphasizes emphasises remarked observed
    commented suggested suggests predicted predicts recalled recalls
    conceded concedes cautioned cautions urged urges labeled labelled
    called described describes dubbed termed tweeted
    confirmed confirms denied vowed vows promised joked jokes
    quipped reiterated reiterates countered mused
    complained complains boasted boasts testified testifies""".split()
)

# Capitalised title words: everything up to the last one in a run is a title.
_TITLES = frozenset(
    """president vice minister secretary spokesman spokeswoman spokesperson
    senator sen representative rep governor gov mayor chancellor king queen
    prince princess general gen colonel col captain capt judge justice
    director ambassador commissioner chairman chairwoman chair ceo cfo cto
    professor prof dr mr mrs ms miss mx lieutenant lt admiral adm sergeant sgt
    inspector detective councillor councilor councilman councilwoman coach
    chief officer leader pope sheikh emir sultan premier deputy superintendent
    sheriff commander dean rabbi bishop economist analyst editor founder
    manager attorney treasurer principal fellow researcher head
    congressman congresswoman mp lord lady sir dame""".split()
)

# Lower-case role nouns (before a name or in an appositive after it).
_ROLE_WORDS = _TITLES | frozenset(
    """counterpart expert scientist researcher lecturer historian author
    lawyer activist strategist adviser advisor consultant official diplomat
    correspondent reporter resident owner farmer teacher doctor nurse
    engineer organizer organiser candidate negotiator envoy aide partner
    architect student worker volunteer captain pilot founder""".split()
)

ROLE_WORDS = _ROLE_WORDS  # public: shared with rag.quotes

_MALE = frozenset("mr sir lord king prince spokesman chairman congressman councilman".split())
_FEMALE = frozenset(
    "mrs ms miss dame lady queen princess spokeswoman chairwoman congresswoman councilwoman".split()
)

# Last word of organisations, places, events, documents ("Security Council").
_NON_PERSON_HEAD = frozenset(
    """institute institution council department ministry agency office bureau
    committee commission university college school academy foundation fund
    bank group company corp corporation inc ltd association union league
    party republic kingdom state states emirates arabia federation alliance
    partnership agreement treaty accord pact summit conference forum assembly
    parliament congress senate court army navy force forces guard police
    service services center centre hospital museum church mosque temple
    east west north south island islands sea ocean river lake mountains
    valley city county province region district street avenue road square
    park airport station port bridge hall tower palace times post news
    journal network television radio media studio studios club team
    festival award prize act bill law program programme project initiative
    strategy war revolution movement front security exchange market markets
    capital holdings partners authority board tribunal cabinet government
    administration rail railway railways airline airlines airways motors
    energy power systems technologies labs industries enterprises trust
    courier herald gazette tribune observer chronicle""".split()
)
# First word of organisations / places ("Global South", "Royal United ...").
_NON_PERSON_MOD = frozenset(
    """global international national federal royal united northern southern
    eastern western central middle new upper lower greater saint
    comprehensive strategic""".split()
)
# Never part of a person's name.
_NEVER = frozenset(
    """kremlin pentagon monday tuesday wednesday thursday friday saturday
    sunday""".split()
)
_MONTHS = frozenset(
    """january february march april may june july august september october
    november december""".split()
)
# Speech verbs whose object (not subject) follows: "told CNBC", "asked Smith".
_OBJECT_VERBS = frozenset("told tells asked asks urged urges called calls".split())

# Capitalised function words that cannot be part of a name (sentence starts).
_STOP = frozenset(
    """the a an and or but if when while after before since as at by for
    from in into of on to with without it its it’s this that these those
    there here he she they we i you his her their our my your who what why
    how where which read originally expect anyone everyone nobody
    however meanwhile also still then now yet so not no yes according
    analysts officials experts many some several""".split()
)

_PARTICLES = frozenset("von van der den de da di du la le al el bin ibn ben dos das".split())

_TOKEN = re.compile(r"[^\W\d_](?:[\w\-]|[’'](?=[^\W\d_]))*")
_POSSESSIVE = re.compile(r"[’']s$")
_PRONOUN = re.compile(r"(he|she|him|her|his|hers)\b", re.IGNORECASE)
_TITLE_PHRASE = re.compile(r"the\s+((?:[\w\-]+\s+){0,3}[\w\-]+)", re.IGNORECASE)


@dataclass
class _Tok:
    word: str  # possessive stripped
    start: int
    end: int
    possessive: bool
    abbrev: bool  # followed by "." as in "Mr." or an initial "J."

    @property
    def low(self) -> str:
        return self.word.lower()

    @property
    def cap(self) -> bool:
        return self.word[0].isupper()


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        word, start, end = m.group(), m.start(), m.end()
        poss = bool(_POSSESSIVE.search(word)) and len(word) > 2
        if poss:
            word, end = word[:-2], end - 2
        abbrev = (
            end < len(text)
            and text[end] == "."
            and (len(word) == 1 or word.lower() in _TITLES and len(word) <= 4)
        )
        out.append(_Tok(word, start, end, poss, abbrev))
    return out


def _runs(text: str, toks: list[_Tok]) -> list[list[int]]:
    """Group indices of adjacent capitalised tokens (with name particles)."""
    runs: list[list[int]] = []
    cur: list[int] = []
    for i, t in enumerate(toks):
        joinable = False
        if cur:
            prev = toks[cur[-1]]
            gap = text[prev.end : t.start]
            joinable = not prev.possessive and (gap == " " or (prev.abbrev and gap == ". "))
        is_cap = t.cap
        is_part = t.low in _PARTICLES and bool(cur)
        if joinable and (is_cap or is_part):
            cur.append(i)
            continue
        if cur:
            runs.append(cur)
        cur = [i] if is_cap else []
    if cur:
        runs.append(cur)
    # drop trailing particles
    return [r[: max(k for k, i in enumerate(r) if toks[i].cap) + 1] for r in runs]


def _is_nameish(toks: list[_Tok], idx: list[int], titled: bool) -> bool:
    """Whether tokens ``idx`` can form a person's name."""
    if toks[idx[0]].low in _PARTICLES or toks[idx[0]].low in _NON_PERSON_MOD:
        return False
    if toks[idx[-1]].low in _NON_PERSON_HEAD:
        return False
    for i in idx:
        t = toks[i]
        if t.low in _PARTICLES:
            continue
        if (len(t.word) > 1 and t.word.isupper()) or re.search(r"-[a-z]", t.word):
            return False  # acronym (CNBC) or "Iran-backed"
        if t.low in _NEVER or t.low in _STOP or (t.low in _MONTHS and not titled):
            return False
    return True


@dataclass
class _Info:
    gender: str | None = None
    roles: set[str] = field(default_factory=set)


@dataclass
class PersonIndex:
    """Person mentions of one text plus per-person role words and gender."""

    text: str
    mentions: list[Mention]
    info: dict[str, _Info]

    def resolve(
        self, offset: int, exclude: Iterable[tuple[int, int]] = ()
    ) -> str | None:
        """Person that a pronoun / "the <title>" phrase at ``offset`` refers to.

        Mentions inside any ``exclude`` span (e.g. inside quotations) are
        ignored as antecedents.
        """
        spans = list(exclude)
        before = [
            m
            for m in self.mentions
            if m.end <= offset and not any(a <= m.start < b for a, b in spans)
        ]
        if not before:
            return None
        rest = self.text[offset:]
        gender: str | None = None
        cue_words: set[str] = set()
        if pm := _PRONOUN.match(rest):
            gender = "f" if pm.group(1).lower() in {"she", "her", "hers"} else "m"
        elif tm := _TITLE_PHRASE.match(rest):
            words = [w.lower() for w in tm.group(1).split()]
            # keep words up to (and including) the first role noun
            for w in words:
                if w in SPEECH_VERBS:
                    break
                cue_words.add(w)
                if w in _ROLE_WORDS:
                    break
            gender = _gender(cue_words)
        candidates = [
            m for m in reversed(before) if gender is None or self.info[m.name].gender in (None, gender)
        ] or list(reversed(before))
        chosen = candidates[0].name
        if cue_words:
            chosen = next((m.name for m in candidates if cue_words & self.info[m.name].roles), chosen)
        if gender is not None and self.info[chosen].gender is None:
            self.info[chosen].gender = gender  # learn: later pronouns of the other gender skip them
        return chosen


def _context_words(toks: list[_Tok], lo: int, hi: int) -> list[str]:
    return [toks[k].low for k in range(max(lo, 0), min(hi, len(toks)))]


def _appositive_roles(text: str, toks: list[_Tok], after: int) -> set[str]:
    """Role words in ', <appositive>,' right after token index ``after``."""
    if after + 1 >= len(toks):
        return set()
    if not re.fullmatch(r",\s*", text[toks[after].end : toks[after + 1].start]):
        return set()
    roles: set[str] = set()
    words: set[str] = set()
    for k in range(after + 1, min(after + 16, len(toks))):
        if k > after + 1 and re.search(r"[,;.:]", text[toks[k - 1].end : toks[k].start]):
            break
        if toks[k].low not in _STOP and len(toks[k].low) > 2:
            words.add(toks[k].low)
        if toks[k].low in _ROLE_WORDS:
            roles.add(toks[k].low)
    return words if roles else set()


def index_persons(text: str) -> PersonIndex:
    """Detect person mentions in ``text`` (see module docstring)."""
    toks = _tokens(text)
    mentions: list[Mention] = []
    info: dict[str, _Info] = {}
    for run in _runs(text, toks):
        # title prefix: everything up to the last title word in the run
        last_title = max((k for k, i in enumerate(run) if toks[i].low in _TITLES), default=-1)
        title_words = {toks[i].low for i in run[: last_title + 1]}
        name_idx = run[last_title + 1 :]
        while name_idx and toks[name_idx[0]].low in _STOP:
            name_idx = name_idx[1:]
        if not name_idx or not _is_nameish(toks, name_idx, last_title >= 0):
            continue
        first, last = name_idx[0], name_idx[-1]
        start, end = toks[first].start, toks[last].end
        name = text[start:end]
        surname = toks[last].word
        known = _match_known(info, [toks[i].word for i in name_idx])
        if known is not None:
            mentions.append(Mention(known, start, end))
            info[known].roles |= title_words
            if info[known].gender is None:
                info[known].gender = _gender(title_words)
            continue
        if not 2 <= len(name_idx) <= 4 and not (len(name_idx) == 1 and last_title >= 0):
            continue
        before = _context_words(toks, first - 3, first)
        after = _context_words(toks, last + 1, last + 3)
        roles = title_words | {w for w in before if w in _ROLE_WORDS}
        roles |= _appositive_roles(text, toks, last)
        evidence = (
            bool(roles)
            or (after and after[0] in SPEECH_VERBS)
            or (before and before[-1] in SPEECH_VERBS - _OBJECT_VERBS)
            or before[-2:] == ["according", "to"]
        )
        if not evidence or len(surname) < 2:
            continue
        info[name] = _Info(_gender(roles), roles)
        mentions.append(Mention(name, start, end))
    return PersonIndex(text, mentions, info)


def _gender(words: set[str]) -> str | None:
    return "m" if words & _MALE else "f" if words & _FEMALE else None


def _match_known(info: dict[str, _Info], words: list[str]) -> str | None:
    """Full name already introduced that ``words`` refers to (surname or full name)."""
    joined = " ".join(words)
    if joined in info:
        return joined
    hits = []
    for full in info:
        parts = full.split()
        if words[-1] == parts[-1] and (len(words) == 1 or words[0] == parts[0]):
            hits.append(full)
    # most recently introduced wins when ambiguous
    return hits[-1] if hits else None


def find_person_mentions(text: str) -> list[Mention]:
    """Person mentions in document order, surname-only mentions resolved to full names."""
    return index_persons(text).mentions


def resolve_speaker(text: str, offset: int) -> str | None:
    """Full name of the person a pronoun / title phrase at ``offset`` refers to.

    Pronouns (he/she) resolve to the most recently named person (respecting a
    known gender when possible); "the <title>" phrases prefer the most recently
    named person whose title/role shares a word with the phrase, else the most
    recent person. Returns None if no person is named before ``offset``.
    """
    return index_persons(text).resolve(offset)
