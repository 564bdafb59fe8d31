from pathlib import Path

from rag.speakers import Mention, find_person_mentions, resolve_speaker

ROOT = Path(__file__).resolve().parents[1]
SEED_TEXT = (ROOT / "corpus" / "kremlin-iran-cnbc-2024-10.txt").read_text(encoding="utf-8")


def at(text: str, needle: str, nth: int = 0) -> int:
    pos = -1
    for _ in range(nth + 1):
        pos = text.index(needle, pos + 1)
    return pos


def test_seed_article_people() -> None:
    mentions = find_person_mentions(SEED_TEXT)
    names = [m.name for m in mentions]
    assert set(names) == {
        "Dmitry Peskov",
        "Benjamin Netanyahu",
        "Vladimir Putin",
        "Masoud Pezeshkian",
        "Burcu Ozcelik",
    }
    assert [m.start for m in mentions] == sorted(m.start for m in mentions)
    for m in mentions:
        surface = SEED_TEXT[m.start : m.end]
        assert surface == m.name or surface == m.name.split()[-1]


def test_seed_surname_mentions_resolve_to_full_name() -> None:
    mentions = find_person_mentions(SEED_TEXT)
    by_start = {m.start: m for m in mentions}
    peskov = at(SEED_TEXT, "Peskov told CNBC that")
    ozcelik = at(SEED_TEXT, "Ozcelik characterized")
    assert by_start[peskov] == Mention("Dmitry Peskov", peskov, peskov + len("Peskov"))
    assert by_start[ozcelik].name == "Burcu Ozcelik"


def test_titles_and_possessive_are_not_part_of_the_name() -> None:
    mentions = find_person_mentions(SEED_TEXT)
    surfaces = {SEED_TEXT[m.start : m.end] for m in mentions}
    assert "Benjamin Netanyahu" in surfaces  # from "Prime Minister Benjamin Netanyahu’s home"
    assert not any("Minister" in s or "Secretary" in s or "’" in s for s in surfaces)


def test_non_person_capitalised_phrases_are_rejected() -> None:
    text = (
        "The Royal United Services Institute said on Tuesday that the Security Council met. "
        "Saudi Arabia and the United Arab Emirates told CNBC Tuesday about the Global South. "
        "The Comprehensive Strategic Partnership agreement was signed in the Middle East, "
        "officials of the State of Israel said."
    )
    assert find_person_mentions(text) == []


def test_name_evidence_speech_verbs_and_appositives() -> None:
    text = (
        "“It is over,” said Maria Lopez. Jonas Ekwueme, a senior analyst at a bank, disagreed. "
        "Anna Berg told us nothing. Velvet Morning is a song."
    )
    names = [m.name for m in find_person_mentions(text)]
    assert names == ["Maria Lopez", "Jonas Ekwueme", "Anna Berg"]


def test_resolve_pronouns_in_seed() -> None:
    assert resolve_speaker(SEED_TEXT, at(SEED_TEXT, "he insisted")) == "Dmitry Peskov"
    assert resolve_speaker(SEED_TEXT, at(SEED_TEXT, "he said in the statement")) == "Benjamin Netanyahu"
    assert resolve_speaker(SEED_TEXT, at(SEED_TEXT, "he labeled")) == "Benjamin Netanyahu"
    assert resolve_speaker(SEED_TEXT, at(SEED_TEXT, "she noted")) == "Burcu Ozcelik"
    assert resolve_speaker(SEED_TEXT, at(SEED_TEXT, "she noted", 1)) == "Burcu Ozcelik"
    # nobody named before the first Peskov mention
    assert resolve_speaker(SEED_TEXT, 0) is None
    assert resolve_speaker(SEED_TEXT, at(SEED_TEXT, "the Kremlin said that")) is None


def test_resolve_title_phrase_prefers_matching_title() -> None:
    text = (
        "Kremlin spokesman Ivo Marsh met Dr Alma Quist on Monday. "
        "Later, the Kremlin spokesman said the talks went well. The doctor said little."
    )
    assert resolve_speaker(text, at(text, "the Kremlin spokesman")) == "Ivo Marsh"
    # no title match ("doctor" vs "dr" is not matched): most recent person
    assert resolve_speaker(text, at(text, "The doctor")) == "Alma Quist"


def test_resolve_pronoun_respects_known_gender() -> None:
    text = "Mr Aldo Penn met Ms Rita Vey on Friday. The meeting was short. He said it went well."
    assert resolve_speaker(text, at(text, "He said")) == "Aldo Penn"
    text2 = "Ms Rita Vey met Mr Aldo Penn on Friday. She said it went well."
    assert resolve_speaker(text2, at(text2, "She said")) == "Rita Vey"
