"""Search keys: the case-, accent- and punctuation-free form of names (pure, no database).

``search_key("Tylénol® with Codeine #3, 5mL")`` is ``"tylenol with codeine 3 5 ml"``: compose
(NFC), map upper-case and accented Latin letters to plain lower-case ones, split numbers from
letters ("5mL", "B12"), and turn every run of anything but ``a-z0-9`` into one space.

The same mapping exists in SQL — ``medapp_search_key(text)``, created by migration 0002 with
``translate()`` over exactly :data:`KEY_FROM` → :data:`KEY_TO` (so no ``unaccent`` extension is
needed) — and feeds the generated columns ``medications.name_key`` / ``generic_key`` /
``search_keys``. Queries are normalised here with the same table, so both sides always agree
(``tests/db/test_formulary_search.py`` checks it). The table is every letter of Latin-1 and
Latin Extended-A/B whose Unicode compatibility decomposition (NFKD) is one ASCII letter plus
combining accents; letters without one (ß, æ, ø, Greek) simply drop out of the key.
"""

from __future__ import annotations

import re
import string
import unicodedata

ACCENTED = (
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥ"
    "ĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſƠơƯưǍǎǏǐǑǒǓǔǕǖ"
    "ǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ"
)
PLAIN = (
    "aaaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaaccccccccddeeeeeeeeeegggggggghh"
    "iiiiiiiiijjkkllllllnnnnnnoooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzsoouuaaiioouuuuuu"
    "uuuuaaaaggkkoooojggnnaaaaaaeeeeiiiioooorrrruuuusstthhaaeeooooooooyy"
)
KEY_FROM = string.ascii_uppercase + ACCENTED
KEY_TO = string.ascii_lowercase + PLAIN

_TABLE = str.maketrans(KEY_FROM, KEY_TO)
_DIGIT_LETTER = re.compile(r"([0-9])([a-z])")
_LETTER_DIGIT = re.compile(r"([a-z])([0-9])")
_NOT_KEY = re.compile(r"[^a-z0-9]+")

MAX_QUERY_CHARS = 200
MAX_QUERY_TOKENS = 8
MAX_TOKEN_CHARS = 60


def search_key(text: str | None) -> str:
    """Lower-case ASCII words separated by single spaces ("" for nothing searchable)."""
    if not text:
        return ""
    key = unicodedata.normalize("NFC", text).translate(_TABLE)
    key = _LETTER_DIGIT.sub(r"\1 \2", _DIGIT_LETTER.sub(r"\1 \2", key))
    return _NOT_KEY.sub(" ", key).strip()


def query_tokens(text: str) -> list[str]:
    """The words of a search box entry, bounded so hostile input stays cheap."""
    key = search_key(text[: MAX_QUERY_CHARS * 2])[:MAX_QUERY_CHARS]
    return [t[:MAX_TOKEN_CHARS] for t in key.split()][:MAX_QUERY_TOKENS]
