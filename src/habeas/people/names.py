"""Names in every script: transliteration and the search keys of the locator and staff search.

(Mandela Rule 7(a): one identity per person, whatever the script the sending state, a family or
a consulate writes the name in; ICAO Doc 9303 part 3 §6 and ISO 9 / BGN-PCGN romanisations
differ, so a name has several common Latin spellings.)

Names are *stored* as written; only keys are transliterated, with ``anyascii`` (a maintained
table of every Unicode character), corrected where it is known to be poor for names:

* **Devanagari**: ``anyascii`` never writes the inherent vowel (``शर्मा`` → ``srma``); a small
  Hunterian romaniser here writes it, with the usual schwa deletion (``sharma``, ``mehta``).
* **Greek**: ``ου``, ``αυ``, ``ευ``, ``γγ`` are read as the digraphs they are (``ou``, ``av``,
  ``ev``, ``ng``).
* **Han and Hangul**: one syllable per character, joined within a word (pinyin writes a given
  name as one word: ``小明`` → ``xiaoming``); a searched word of 2–4 such characters is a whole
  name, surname first (``王小明`` → ``wang xiaoming``).
* **Arabic (and Hebrew)**: short vowels are not written, so a transliteration is a consonant
  frame (``محمد`` → ``mhmd``). Such words are kept apart (``~mhmd``) and compared with Latin
  words by :func:`cross_cost`: the same consonants, and the long vowels (``و``, ``ي``) written
  in the Latin word (``محمود`` is *Mahmoud*, not *Mohamed*).

Latin spellings of one name are brought together by :func:`latin_key`: well-known
transliteration variants (``yo``/``e``, ``kh``/``h``, ``iy``/``y``/``i``, ``ou``/``u``,
``ee``/``i``, doubled letters, ``Alex…``/``Aleks…``, ``ph``/``f``, ``dj``/``d``) and the
common spellings of frequent Arabic given names and surnames (*Mohamed*, *Muhammad*…).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from anyascii import anyascii

#: The marker of a word written in a consonantal script (Arabic, Hebrew).
CONSONANTAL = "~"
#: The marker of a consonant skeleton key (``LocatorVariant``, staff search).
SKELETON = "="


def _script(char: str) -> str:
    code = ord(char)
    if code < 0x80:
        return "ascii"
    if 0x0900 <= code <= 0x097F:
        return "deva"
    if 0x0370 <= code <= 0x03FF or 0x1F00 <= code <= 0x1FFF:
        return "greek"
    if (
        0x0600 <= code <= 0x06FF
        or 0x0750 <= code <= 0x077F
        or 0xFB50 <= code <= 0xFDFF
        or 0xFE70 <= code <= 0xFEFF
        or 0x0590 <= code <= 0x05FF
    ):
        return "abjad"
    if (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xAC00 <= code <= 0xD7AF
        or 0xF900 <= code <= 0xFAFF
    ):
        return "cjk"
    return "other"


# --- Devanagari (Hunterian, with schwa deletion) --------------------------------------------

_DEVA_CONSONANTS = dict(
    zip(
        "कखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसहळ",
        [
            "k",
            "kh",
            "g",
            "gh",
            "n",
            "ch",
            "chh",
            "j",
            "jh",
            "n",
            "t",
            "th",
            "d",
            "dh",
            "n",
            "t",
            "th",
            "d",
            "dh",
            "n",
            "p",
            "ph",
            "b",
            "bh",
            "m",
            "y",
            "r",
            "l",
            "v",
            "sh",
            "sh",
            "s",
            "h",
            "l",
        ],
        strict=True,
    )
)
_DEVA_NUKTA = {"क": "q", "ख": "kh", "ग": "gh", "ज": "z", "ड": "r", "ढ": "rh", "फ": "f", "य": "y"}
_VOWEL_LATIN = ["i", "i", "u", "u", "ri", "e", "ai", "o", "au", "e", "o"]
_DEVA_VOWELS = dict(zip("अआइईउऊऋएऐओऔऍऑ", ["a", "a", *_VOWEL_LATIN], strict=True))
_DEVA_SIGNS = dict(zip("ािीुूृेैोौॅॉ", ["a", *_VOWEL_LATIN], strict=True))
_VIRAMA, _NUKTA, _ANUSVARA, _CANDRABINDU, _VISARGA = "्", "़", "ं", "ँ", "ः"


def _devanagari(word: str) -> str:
    """One Devanagari word in Latin letters: each consonant with its vowel sign, or its
    inherent *a*, which is dropped at the end of the word after a single consonant and
    between two syllables that both have a vowel (Hindi schwa deletion: मेहता → mehta)."""
    units: list[list[str]] = []  # [consonant, vowel or "" (virama) or "a*" (inherent), tail]
    chars = unicodedata.normalize("NFD", word)
    i = 0
    while i < len(chars):
        c = chars[i]
        if c in _DEVA_CONSONANTS:
            latin = _DEVA_CONSONANTS[c]
            if i + 1 < len(chars) and chars[i + 1] == _NUKTA:
                latin = _DEVA_NUKTA.get(c, latin)
                i += 1
            units.append([latin, "a*", ""])
        elif c in _DEVA_VOWELS:
            units.append(["", _DEVA_VOWELS[c], ""])
        elif units and c in _DEVA_SIGNS:
            units[-1][1] = _DEVA_SIGNS[c]
        elif units and c == _VIRAMA:
            units[-1][1] = ""
        elif units and c in (_ANUSVARA, _CANDRABINDU):
            units[-1][2] = "n"
        elif units and c == _VISARGA:
            units[-1][2] = "h"
        i += 1
    if not units:
        return anyascii(word)
    last = units[-1]
    if len(units) > 1 and last[0] and last[1] == "a*" and units[-2][1] != "":
        last[1] = ""
    for k in range(len(units) - 2, 0, -1):
        unit, before, after = units[k], units[k - 1], units[k + 1]
        if (
            unit[0]
            and unit[1] == "a*"
            and not unit[2]
            and before[1] not in ("",)
            and after[0]
            and after[1] not in ("",)
        ):
            unit[1] = ""
    out = []
    for k, (consonant, vowel, tail) in enumerate(units):
        if tail == "n" and k + 1 < len(units) and units[k + 1][0] == "h" and not units[k + 1][1]:
            tail = "ng"  # सिंह: Singh
        out.append(consonant + ("a" if vowel == "a*" else vowel) + tail)
    return "".join(out)


# --- romanisation --------------------------------------------------------------------------

_GREEK_DIGRAPHS = (("oy", "ou"), ("ay", "av"), ("ey", "ev"), ("gg", "ng"))


def _runs(text: str) -> list[tuple[str, str]]:
    """``text`` cut into runs of one script (spaces and punctuation are ASCII)."""
    runs: list[tuple[str, str]] = []
    for char in text:
        script = _script(char)
        if runs and runs[-1][0] == script:
            runs[-1] = (script, runs[-1][1] + char)
        else:
            runs.append((script, char))
    return runs


def _roman_run(script: str, run: str) -> str:
    if script == "ascii":
        return run
    if script == "deva":
        return " ".join(_devanagari(w) for w in run.split())
    if script == "cjk":
        return "".join(anyascii(c).lower() for c in run)
    latin = anyascii(run).replace("'", "").replace("`", "")
    if script == "greek":
        lowered = latin.lower()
        for old, new in _GREEK_DIGRAPHS:
            lowered = lowered.replace(old, new)
        return lowered
    return latin


@lru_cache(maxsize=200_000)
def romanize(text: str) -> str:
    """``text`` in ASCII letters (names in any script; see the module docstring). ASCII text
    is returned as it is."""
    if text.isascii():
        return text
    return "".join(_roman_run(script, run) for script, run in _runs(text))


# --- Latin spelling variants ---------------------------------------------------------------

_VARIANT_RULES = [
    (re.compile(r"^alex(?=[aeiou])"), "aleks"),  # Alexei / Aleksei (not Xol, Ximena)
    (re.compile(r"ph"), "f"),
    (re.compile(r"kh"), "h"),
    (re.compile(r"dj"), "d"),  # Djordje / Đorđe
    (re.compile(r"^ye"), "e"),  # Yevgeny / Evgeniy, Yelena / Elena
    (re.compile(r"(?<=[^aeiouy])yo"), "e"),  # Pyotr / Petr, Fyodor / Fedor
    (re.compile(r"(?<=[^aeiouy])ya"), "ia"),  # Natalya / Natalia
    (re.compile(r"(?<=.)y(?![aeiou])"), "i"),  # Dmitriy / Dmitry / Dmitri, Sergey / Sergei
    (re.compile(r"ou"), "u"),  # Youssef / Yusef, Papadopoulos
    (re.compile(r"oo"), "u"),  # Pooja / Puja
    (re.compile(r"ee"), "i"),  # Sameer / Samir, Deepak
    (re.compile(r"(.)\1+"), r"\1"),  # Mohammed / Mohamed, Dmitrii
]

#: Common Latin spellings of very frequent Arabic given names and surnames, one key each.
_NAME_FAMILIES = {
    "muhamad": ("mohamed", "mohammed", "mohamad", "mohammad", "muhammad", "muhammed",
                "mouhamed", "mohammad", "mahomed", "muhamed"),
    "ahmad": ("ahmed", "ahmad", "akhmed"),
    "husein": ("hussein", "husein", "hussain", "husain", "hossein", "husayn", "houssein"),
    "yusuf": ("yusuf", "yousef", "youssef", "yousif", "yusef", "yossef", "youssouf"),
    "mustafa": ("mustafa", "mostafa", "moustafa", "mustapha"),
    "mahmud": ("mahmoud", "mahmud", "mahmood"),
    "umar": ("omar", "umar", "omer"),
    "abdulah": ("abdullah", "abdallah", "abdulla", "abdellah"),
    "halid": ("khaled", "khalid", "khaleed"),
    "ibrahim": ("ibrahim", "ebrahim", "ibraheem"),
    "kasim": ("qasim", "kassem", "qassem", "kasim", "qasem", "kacem"),
    "sharif": ("sharif", "sherif", "cherif", "shareef"),
    "sulaiman": ("suleiman", "sulaiman", "soliman", "sulayman", "slimane"),
    "isa": ("issa", "eissa", "isa", "aissa"),
    "huri": ("khoury", "khouri", "khuri", "khury"),
    "yunus": ("younes", "younis", "yunus", "younus", "yunis"),
    "jabir": ("jaber", "jabir", "gaber"),
    "uthman": ("othman", "uthman", "osman", "otman"),
    "said": ("said", "saeed", "saied"),
}  # fmt: skip


def _apply_rules(token: str) -> str:
    for pattern, repl in _VARIANT_RULES:
        token = pattern.sub(repl, token)
    return token


_FAMILY_OF = {_apply_rules(v): key for key, spellings in _NAME_FAMILIES.items() for v in spellings}


@lru_cache(maxsize=200_000)
def latin_key(token: str) -> str:
    """The key of one folded Latin word: its common transliteration variants agree
    (``pyotr``, ``petr`` → ``petr``; ``mohammed``, ``muhammad`` → ``muhamad``)."""
    if not token or token.startswith(CONSONANTAL):
        return token
    key = _apply_rules(token)
    return _FAMILY_OF.get(key, key)


# --- consonantal scripts -------------------------------------------------------------------

_FRAME_RULES = [
    (re.compile(r"sh|ch"), "$"),
    (re.compile(r"kh"), "h"),
    (re.compile(r"gh"), "g"),
    (re.compile(r"th"), "t"),
    (re.compile(r"dh"), "z"),
    (re.compile(r"dj"), "j"),
    (re.compile(r"ck|q|c"), "k"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"g"), "j"),  # Gamal / Jamal
]
_GAP = frozenset("aeiouyw'`")


@lru_cache(maxsize=100_000)
def _frame(word: str) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    """``(initial vowel?, consonants, vowel gaps)`` of a Latin word or of the transliteration
    of an Arabic one: adjacent equal consonants count once, a final *h* (ta marbuta) not."""
    for pattern, repl in _FRAME_RULES:
        word = pattern.sub(repl, word)
    consonants: list[str] = []
    gaps: list[str] = [""]
    for i, char in enumerate(word):
        if char in _GAP and not (i == 0 and char in "wy"):
            gaps[-1] += char
        elif consonants and consonants[-1] == char:
            continue  # Hassan / Hasan; Bilal / بلال (anyascii writes no alif: "bll")
        else:
            consonants.append(char)
            gaps.append("")
    if len(consonants) > 1 and consonants[-1] == "h" and not gaps[-1]:
        consonants.pop()
        gaps.pop()
    return bool(gaps[0]), tuple(consonants), tuple(gaps)


@lru_cache(maxsize=200_000)
def skeleton(token: str) -> str:
    """The consonant skeleton key of a token (``=`` + initial-vowel mark + consonants): a
    Latin word and the Arabic word it may transliterate share it (``mohamed``, ``~mhmd`` →
    ``=mhmd``). Found by it, candidates are then checked by :func:`cross_cost`."""
    word = token[1:] if token.startswith(CONSONANTAL) else token
    initial, consonants, _gaps = _frame(word)
    if not consonants:
        return ""
    return SKELETON + ("'" if initial else "") + "".join(consonants)


_LONG = (("wu", "ouw"), ("yi", "iey"))

#: The cost of a match on the consonants alone (above a typo's 1: a spelling one edit away
#: is a closer match than a different vowelling).
COARSE = 2.0
#: The cost of each Latin vowel (other than *a*) the Arabic word does not write: among Arabic
#: names of one skeleton it prefers the one whose long vowels explain the Latin spelling
#: (*Mahmud* is محمود rather than محمد).
UNEXPLAINED = 0.01


def cross_cost(a: str, b: str) -> float | None:
    """How well two tokens agree when at least one is a consonantal-script word (``~…``):
    ``None`` unless the consonants agree and each long vowel the Arabic word writes is
    written in the Latin one; then :data:`COARSE` when the Latin word writes a long vowel
    (two letters) where the Arabic one has none, or for two Arabic words of one skeleton,
    plus :data:`UNEXPLAINED` per Latin vowel the Arabic word does not write."""
    if a.startswith(CONSONANTAL) and b.startswith(CONSONANTAL):
        if a == b:
            return 0.0
        return COARSE if skeleton(a) == skeleton(b) else None
    latin, arabic = (a, b[1:]) if b.startswith(CONSONANTAL) else (b, a[1:])
    li, lc, lg = _frame(latin)
    ai, ac, ag = _frame(arabic)
    if li != ai or lc != ac:
        return None
    cost = 0.0
    for k, (arabic_gap, latin_gap) in enumerate(zip(ag, lg, strict=True)):
        constrained = False
        for long_letters, spellings in _LONG:
            if any(c in arabic_gap for c in long_letters):
                constrained = True
                if not any(c in latin_gap for c in spellings):
                    return None
        if constrained:
            continue
        if len(latin_gap) > 1:
            cost = COARSE
        if k and any(c in "ouie" for c in latin_gap):
            cost += UNEXPLAINED
    return cost


# --- the keys of a name --------------------------------------------------------------------


def _is_cjk_word(word: str) -> bool:
    return all(_script(c) == "cjk" for c in word)


@lru_cache(maxsize=200_000)
def name_keys(text: str, query: bool = False) -> tuple[str, ...]:
    """The search keys of a name field, or of a searched name (``query``): each word's
    :func:`latin_key`, ``~`` + the transliteration of a word in a consonantal script, and
    particles (*de, del, la, y…*) left out unless last (the Vietnamese surname *Đỗ* is
    ``do``). A searched word of 2–4 Han or Hangul characters is read as a whole name,
    surname first."""
    return tuple(key for key, _spelling in name_spellings(text, query))


@lru_cache(maxsize=100_000)
def name_spellings(text: str, query: bool = False) -> tuple[tuple[str, str], ...]:
    """``(key, folded word)`` for each key of :func:`name_keys`: a typo is measured on the
    folded words too (``echeerria`` is one letter from ``echeverria``, but its key
    ``echeria`` is two from ``echeveria``)."""
    from habeas.people.matching import PARTICLES, fold

    pairs: list[tuple[str, str]] = []
    words = [w for w in re.split(r"[\s,;/()\-]+", text) if w]
    for n, word in enumerate(words):
        if any(_script(c) == "abjad" for c in word):
            latin = re.sub(r"[^a-z'`]", "", anyascii(word).lower())
            if latin.strip("'`"):
                pairs.append((CONSONANTAL + latin, CONSONANTAL + latin))
            continue
        if query and _is_cjk_word(word) and 2 <= len(word) <= 4:
            syllables = [anyascii(c).lower() for c in word]
            for part in (syllables[0], "".join(syllables[1:])):
                pairs.append((latin_key(part), part))
            continue
        folded = fold(word).split()
        last = n == len(words) - 1
        # A particle leads a surname ("de la Cruz"); a name's last word is a name (Đỗ, Do).
        pairs += [
            (latin_key(t), t)
            for k, t in enumerate(folded)
            if t not in PARTICLES or not word.isascii() or (last and k == len(folded) - 1)
        ]
    return tuple(pairs)


def search_text(
    given_names: str, first_surname: str, second_surname: str, aliases: Sequence[str]
) -> str:
    """The stored words of the staff search (``Person.name_keys``): every key of the names
    and aliases, then each key's consonant skeleton, framed by spaces (`` petr ivanov =ptr
    ='vnv ``) so that a word or a word's beginning is one ``LIKE`` pattern."""
    keys: list[str] = []
    for text in (given_names, first_surname, second_surname, *aliases):
        keys += name_keys(text)
    keys = list(dict.fromkeys(keys))
    skeletons = [k for k in dict.fromkeys(skeleton(key) for key in keys) if k]
    return " " + " ".join(keys + skeletons) + " "
