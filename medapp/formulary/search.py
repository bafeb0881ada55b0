"""Medication search as nurses type it: names, prefixes, misspellings, any form of an NDC.

How a query is answered (:func:`search_medications`):

1. **NDC** — text made only of digits, dashes and spaces (optionally after "NDC") is read by
   :func:`medapp.formulary.ndc.interpret_ndc`: product NDC with or without dashes, package NDC
   in 10-digit, 11-digit or dashed form, or a scanned UPC-A / EAN-13 / GTIN-14 barcode (check
   digit verified). Package matches (``medication_packages.ndc11`` / ``ndc10``) come first;
   only if no package matches, products whose dash-stripped NDC (``medications.ndc_digits``)
   fits one of the possible segmentations. 4–7 digits: products whose NDC starts with them.
2. **Words** — the query is reduced to search-key words (:mod:`medapp.formulary.text`:
   lower-case, no accents, no punctuation, numbers split from letters; so quotes, ``%``,
   ``_``, tsquery operators and the like simply vanish) and matched as word *prefixes*
   against ``medications.search_keys`` (a weighted tsvector: name A, generic name B, strength
   + dosage form + route C, manufacturer D; GIN index). Every word must match. Common nurse
   words for forms and routes also match the FDA's (:data:`SYNONYMS`: "inhaler" →
   aerosol/inhalant, "liquid" → solution/suspension/syrup/elixir, "odt", "eye", "ear", …).
3. **Fallbacks**, only when step 2 finds fewer than :data:`FUZZY_BELOW` results, tried in
   this order until one finds more (``query_kind`` is then "fuzzy"):

   a. the words joined ("epi pen" → epipen, "ventolin hfa" → VENTOLINHFA);
   b. spelling: each word that starts no word in the formulary is corrected against an
      in-process vocabulary of the words of names and generic names (rapidfuzz ``ratio`` ≥
      :data:`FUZZY_CUTOFF`, up to three alternatives, the more common word first on ties;
      built once per process from ``ts_stat``, refreshed hourly and after imports), and the
      query runs again with ``(word:* | correction …)``; ``SearchPage.corrected`` says what
      was searched. No pg_trgm needed, so it behaves the same on every server;
   c. only if still nothing: all words but one, then all but two, … ("ritalin la",
      "glucagon emergency kit"), ranked by how many letters of the query the row matched.

Ranking (``tier``, smaller first): 0 the whole query equals the name, 1 the name starts with
it, 2 it equals the generic name, 3 the generic name starts with it, 4 every word starts a
word of the name or of strength/form/route ("amoxicillin 500"), 5 …of name or generic name,
6 …of name, generic, strength, form or route, 7 a word matched only the manufacturer; the same
+ 10 for rows found only through a spelling correction, 20+ for rows matching only some words.
Within a tier: active products before inactive ones (no longer in the FDA file, or past their
marketing end date), then names shared by more products first (a proxy for how common a drug
is: "amox" → Amoxicillin before Amoxapine), then name, strength (by its number), form.

Grouping: products with the same name, strength and dosage form (the same drug from many
labelers and repackagers) are one result with ``group_size`` — the server keeps these groups
(migration 0012, ``medication_groups``: triggers on ``medications`` rebuild a name's groups
whenever a statement touches its products), each with one representative product (an active
one first, then a mixed-case name, then the lowest NDC) and the union of its products' words, so
one popular drug cannot fill the page and a search ranks ~40 groups instead of ~500 products.
A word matches a group if it matches any of its products (a maker's name finds the group);
``group_size`` counts all of the group's products and the "how common" tie-break all products of
the name. :func:`group_members` lists the whole group. ``total`` counts results (groups);
``offset``/``limit`` page through them.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
import uuid
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from medapp.formulary.ndc import NdcError, NdcQuery, interpret_ndc
from medapp.formulary.text import query_tokens, search_key

QueryKind = Literal["ndc", "text", "fuzzy", "empty"]

MAX_LIMIT = 200
MAX_OFFSET = 10_000
MAX_INPUT_CHARS = 500
FUZZY_BELOW = 5  # run the typo stage when the word stage finds fewer result rows than this
FUZZY_CUTOFF = 82.0  # rapidfuzz ratio (0-100): one or two typos in a word of 6+ letters
FUZZY_MIN_TOKEN = 4
CORRECTED_TIER = 10  # tiers from here up: rows found only through a spelling correction
VOCABULARY_TTL_S = 3600.0
PARTIAL_NDC_MAX = 500

Bind = Session | Connection


@dataclass(frozen=True)
class MedicationHit:
    """One search result, detached from the database (safe to hand to Qt models)."""

    id: uuid.UUID
    name: str
    generic_name: str | None
    strength: str
    dosage_form: str
    route: str | None
    manufacturer: str | None
    ndc: str | None
    is_controlled: bool
    dea_schedule: str | None
    is_otc: bool
    is_active: bool
    group_size: int = 1  # products collapsed into this result (same name/strength/form)
    package_ndc: str | None = None  # the package a scanned/typed package NDC matched
    package_description: str | None = None


@dataclass(frozen=True)
class SearchPage:
    """One page of results. ``query_kind``: "ndc" (an NDC or barcode), "text" (all words
    matched as typed), "fuzzy" (found through a fallback: joined words, a spelling correction
    or only some of the words), "empty" (nothing searchable was typed)."""

    query: str
    items: tuple[MedicationHit, ...]
    total: int  # results (after grouping) over all pages
    offset: int
    limit: int
    query_kind: QueryKind
    corrected: str | None = None  # the spelling searched instead ("sertraline"), if any
    message: str | None = None  # why an NDC-looking query found nothing ("bad check digit")

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


@dataclass(frozen=True)
class Suggestion:
    text: str  # name as usually written in the formulary
    kind: Literal["name", "generic"]
    count: int  # products with this name (a proxy for how common it is)


# --- public API -----------------------------------------------------------------------------


def search_medications(
    session: Bind, query: str, *, limit: int = 25, offset: int = 0
) -> SearchPage:
    """Ranked, grouped, paginated search (see the module docstring for the rules)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, min(int(offset), MAX_OFFSET))
    raw = (query if isinstance(query, str) else "")[:MAX_INPUT_CHARS]
    try:
        ndc_query = interpret_ndc(raw)
    except NdcError as exc:
        return SearchPage(raw, (), 0, offset, limit, "ndc", message=str(exc))
    if ndc_query is not None:
        hits = _ndc_hits(session, ndc_query)
        return SearchPage(
            raw, tuple(hits[offset : offset + limit]), len(hits), offset, limit, "ndc"
        )

    tokens = query_tokens(raw)
    if not tokens or len("".join(tokens)) < 2:
        return SearchPage(raw, (), 0, offset, limit, "empty")
    plan = _Plan.exact(tokens)
    shortcut = _misspelt_word(session, tokens, limit, offset)
    if shortcut is not None:
        items, total, corrected = shortcut
        kind: QueryKind = "fuzzy" if total else "text"  # nothing found: as the exact search says
        return SearchPage(raw, items, total, offset, limit, kind, corrected=corrected)
    items, total = _text_hits(session, plan, limit, offset)
    if total >= FUZZY_BELOW:
        return SearchPage(raw, items, total, offset, limit, "text")
    # Few hits: maybe "epi pen" for EpiPen, a misspelling ("sertaline"), or a word the
    # formulary does not have ("ritalin la", "glucagon emergency kit").
    best = SearchPage(raw, items, total, offset, limit, "text")
    correction = _correct(session, tokens)
    retries = itertools.chain((_joined(tokens), correction), (correction or plan).relaxations())
    for retry in retries:
        if retry is None or (retry.relaxed and best.total > 0):
            continue
        retry_items, retry_total = _text_hits(session, retry, limit, offset)
        if retry_total > best.total:
            corrected = " ".join(retry.best) if retry.best != plan.tokens else None
            best = SearchPage(
                raw, retry_items, retry_total, offset, limit, "fuzzy", corrected=corrected
            )
        if best.total >= FUZZY_BELOW:
            break
    return best


def _misspelt_word(
    session: Bind, tokens: Sequence[str], limit: int, offset: int
) -> tuple[tuple[MedicationHit, ...], int, str | None] | None:
    """One word that starts no word of the formulary ("gaapentin"): the word as typed can
    find nothing, so go straight to its spelling corrections — one statement instead of an
    empty one first. The corrected statement still matches the word as typed, ranked first;
    if it did match something (the vocabulary is older than a just-added product), None: the
    caller then searches exactly as for any other query."""
    if len(tokens) != 1 or offset:
        return None
    correction = _correct(session, tokens)
    if correction is None:
        return None
    rows = _text_rows(session, correction, limit, offset)
    if rows and rows[0].group_tier < CORRECTED_TIER:
        return None
    total = int(rows[0].total) if rows else 0
    if total == 0:
        return (), 0, None
    corrected = " ".join(correction.best) if correction.best != tuple(tokens) else None
    return tuple(_hit(r._mapping) for r in rows), total, corrected


def lookup_ndc(session: Bind, code: str) -> MedicationHit | None:
    """The product a typed or scanned NDC / barcode names, or None (also for invalid input)."""
    try:
        ndc_query = interpret_ndc((code if isinstance(code, str) else "")[:MAX_INPUT_CHARS])
    except NdcError:
        return None
    if ndc_query is None or ndc_query.digits_prefix is not None:
        return None
    hits = _ndc_hits(session, ndc_query)
    return hits[0] if hits else None


def autocomplete(session: Bind, prefix: str, limit: int = 10) -> list[Suggestion]:
    """Names and generic names starting with ``prefix`` (2+ characters), most common first.

    An exact name comes first; a name that is both a brand and a generic name is listed once.
    """
    key = search_key((prefix if isinstance(prefix, str) else "")[:MAX_INPUT_CHARS])[:100]
    limit = max(1, min(int(limit), 50))
    if len(key.replace(" ", "")) < 2 or key.replace(" ", "").isdigit():
        return []
    rows = session.execute(
        text(
            """
            (SELECT name_key AS key, mode() WITHIN GROUP (ORDER BY name) AS label,
                    count(*) AS n, 'name' AS kind
               FROM medications WHERE name_key LIKE :p
              GROUP BY name_key ORDER BY n DESC, name_key LIMIT :k)
            UNION ALL
            (SELECT generic_key, mode() WITHIN GROUP (ORDER BY generic_name), count(*), 'generic'
               FROM medications WHERE generic_key LIKE :p
              GROUP BY generic_key ORDER BY count(*) DESC, generic_key LIMIT :k)
            """
        ),
        {"p": key + "%", "k": limit},
    ).all()
    best: dict[str, Suggestion] = {}
    for row_key, label, n, kind in rows:
        seen = best.get(row_key)
        if seen is None or (seen.kind == "generic" and kind == "name"):
            best[row_key] = Suggestion(label, kind, max(n, seen.count if seen else 0))
    ranked = sorted(best.items(), key=lambda kv: (kv[0] != key, -kv[1].count, kv[0]))
    return [s for _, s in ranked[:limit]]


def group_members(session: Bind, hit: MedicationHit, *, limit: int = 200) -> list[MedicationHit]:
    """Every product collapsed into ``hit`` (same name, strength and form), active first."""
    rows = session.execute(
        text(
            f"""
            SELECT {_HIT_COLUMNS}, 1 AS group_size
              FROM medications h
              JOIN medications m ON m.name_key = h.name_key AND m.strength = h.strength
                                AND m.dosage_form = h.dosage_form
             WHERE h.id = :id
             ORDER BY {_ACTIVE} DESC, m.manufacturer, m.ndc
             LIMIT :limit
            """
        ),
        {"id": hit.id, "limit": max(1, min(limit, 1000))},
    ).all()
    return [_hit(r._mapping) for r in rows]


def invalidate_vocabulary() -> None:
    """Forget the typo-correction vocabulary (after an import or a hand-added medication)."""
    with _VOCAB_LOCK:
        _VOCABULARIES.clear()


# --- SQL ------------------------------------------------------------------------------------

_ACTIVE = "(m.is_active AND (m.marketing_end IS NULL OR m.marketing_end >= CURRENT_DATE))"
_HIT_COLUMNS = (
    "m.id, m.name, m.generic_name, m.strength, m.dosage_form, m.route, m.manufacturer, m.ndc, "
    f"m.is_controlled, m.dea_schedule, m.is_otc, {_ACTIVE} AS is_active"
)


def _tier_sql(p: str) -> str:
    """A group's tier for the words in the ``{p}``-prefixed parameters (see the module doc)."""
    return f"""CASE WHEN g.name_key = :{p}q THEN 0
                    WHEN g.name_key LIKE :{p}qp THEN 1
                    WHEN g.generic_key = :{p}q THEN 2
                    WHEN g.generic_key LIKE :{p}qp THEN 3
                    WHEN g.keys @@ CAST(:{p}ts_ac AS tsquery) THEN 4
                    WHEN g.keys @@ CAST(:{p}ts_ab AS tsquery) THEN 5
                    WHEN g.keys @@ CAST(:{p}ts_abc AS tsquery) THEN 6
                    ELSE 7 END"""


# Groups, not products (migration 0012): the server keeps one row per name, strength and form
# with the union of its products' words, so a common name ranks ~40 rows instead of ~500, and
# only the page shown is joined to the products. An earlier form grouped the matching products
# per keystroke (window functions and sorts over every hit): three quarters of a search's time.
_GROUP_ACTIVE = "(g.is_active AND (g.marketing_end IS NULL OR g.marketing_end >= CURRENT_DATE))"
_ORDER = """tier, NOT active, popularity DESC, name_key,
          substring(strength FROM '^[0-9]*[.]?[0-9]+')::numeric NULLS LAST,
          strength, dosage_form, ndc"""
_TEXT_SQL = f"""
WITH hits AS (
    SELECT g.head_id, g.name_key, g.strength, g.dosage_form, g.ndc, g.members, g.popularity,
           {_GROUP_ACTIVE} AS active,
           CASE WHEN g.keys @@ CAST(:ts_exact AS tsquery) THEN {_tier_sql("")}
                ELSE {{fallback}} END AS tier
      FROM medication_groups g
     WHERE g.keys @@ CAST(:ts_any AS tsquery)
), page AS (
    SELECT *, count(*) OVER () AS total
      FROM hits
     ORDER BY {_ORDER}
     LIMIT :limit OFFSET :offset
)
SELECT {_HIT_COLUMNS}, p.members AS group_size, p.tier AS group_tier, p.total
  FROM page p JOIN medications m ON m.id = p.head_id
 ORDER BY p.tier, NOT p.active, p.popularity DESC, p.name_key,
          substring(p.strength FROM '^[0-9]*[.]?[0-9]+')::numeric NULLS LAST,
          p.strength, p.dosage_form, p.ndc
"""


# A two-letter prefix ("am") matches thousands of products; ranking and grouping all of them
# took ~200 ms on the district formulary, too slow for a keystroke. Such a query ranks only the
# best SHORT_PREFIX_CAP groups (by tier, then name); a third letter searches everything again.
SHORT_PREFIX_LETTERS = 2
SHORT_PREFIX_CAP = 300
_SHORT_SQL = _TEXT_SQL.replace(
    """      FROM medication_groups g
     WHERE g.keys @@ CAST(:ts_any AS tsquery)
), page AS (""",
    f"""      FROM (SELECT * FROM medication_groups g
             WHERE g.keys @@ CAST(:ts_any AS tsquery)
             ORDER BY {_tier_sql("")}, g.name_key
             LIMIT {SHORT_PREFIX_CAP}) g
), page AS (""",
)
assert _SHORT_SQL != _TEXT_SQL, "the capped statement must replace the hits scan"


# Words nurses type for a form or route that the FDA spells differently (whole words only).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "inhaler": ("aerosol", "inhalant"),
    "puffer": ("aerosol", "inhalant"),
    "liquid": ("solution", "suspension", "syrup", "elixir"),
    "pill": ("tablet", "capsule"),
    "pills": ("tablet", "capsule"),
    "shot": ("injection", "injectable"),
    "injector": ("injection",),
    "eye": ("ophthalmic",),
    "ear": ("otic", "auricular"),
    "nose": ("nasal",),
    "patch": ("transdermal",),
    "er": ("extended",),
    "xr": ("extended",),
    "odt": ("disintegrating",),
    "nebulizer": ("inhalation",),
    "neb": ("inhalation",),
}


@dataclass(frozen=True)
class _Plan:
    """The words to search for: each word with its synonyms, and spelling corrections.

    ``relaxed`` = k: rows need match only k of the words; they rank by the letters of the
    words they do match (a long, specific word counts more than "la" or "xr").
    """

    tokens: tuple[str, ...]
    corrections: tuple[tuple[str, ...], ...]
    relaxed: int = 0  # > 0: rows must match at least this many of the words

    @classmethod
    def exact(cls, tokens: Sequence[str]) -> _Plan:
        return cls(tuple(tokens), tuple(() for _ in tokens))

    @property
    def best(self) -> tuple[str, ...]:
        pairs = zip(self.tokens, self.corrections, strict=True)
        return tuple(alts[0] if alts else tok for tok, alts in pairs)

    def relaxations(self) -> Iterator[_Plan]:
        """All words but one, then all but two, … (a single word only if it is specific)."""
        for k in range(len(self.tokens) - 1, 0, -1):
            if k == 1 and not any(_specific(t) for t in self.tokens):
                return
            yield _Plan(self.tokens, self.corrections, relaxed=k)

    def _groups(self) -> list[tuple[str, ...]]:
        """Per word: the word, its synonyms and its spelling corrections."""
        return [
            (t, *SYNONYMS.get(t, ()), *alts)
            for t, alts in zip(self.tokens, self.corrections, strict=True)
        ]

    @property
    def short(self) -> bool:
        """One word of at most :data:`SHORT_PREFIX_LETTERS` letters (capped, see above)."""
        return len(self.tokens) == 1 and len(self.tokens[0]) <= SHORT_PREFIX_LETTERS

    def sql(self) -> str:
        if not self.relaxed:
            template = _SHORT_SQL if self.short else _TEXT_SQL
            return template.format(fallback=f"{CORRECTED_TIER} + {_tier_sql('c_')}")
        matched = " + ".join(
            f"CASE WHEN g.keys @@ CAST(:w{i} AS tsquery) THEN {len(t)} ELSE 0 END"
            for i, t in enumerate(self.tokens)
        )
        # Ties: the shorter generic name first (epinephrine itself before lidocaine with it).
        shorter = "least(length(coalesce(g.generic_key, '')), 999) / 1000.0"
        total = sum(map(len, self.tokens))
        return _TEXT_SQL.format(fallback=f"20 + {total} - ({matched}) + {shorter}")

    def params(self) -> dict[str, Any]:
        q, cq = " ".join(self.tokens), " ".join(self.best)
        words = [(t, *SYNONYMS.get(t, ())) for t in self.tokens]
        corrected = [(t, *SYNONYMS.get(t, ())) for t in self.best]
        groups = self._groups()
        params = {
            "q": q,
            "qp": q + "%",
            "ts_exact": _tsquery(words),
            "ts_ac": _tsquery(words, "AC"),
            "ts_ab": _tsquery(words, "AB"),
            "ts_abc": _tsquery(words, "ABC"),
            "c_q": cq,
            "c_qp": cq + "%",
            "c_ts_ac": _tsquery(corrected, "AC"),
            "c_ts_ab": _tsquery(corrected, "AB"),
            "c_ts_abc": _tsquery(corrected, "ABC"),
            "ts_any": _tsquery(groups),
        }
        if self.relaxed:
            combos = itertools.combinations(range(len(groups)), self.relaxed)
            parts = [
                " & ".join(_tsquery([groups[i]]) for i in combo)
                for combo in combos
                if self.relaxed > 1 or _specific(self.tokens[combo[0]])
            ]
            params["ts_any"] = " | ".join(f"({p})" for p in parts)
            params |= {f"w{i}": _tsquery([g]) for i, g in enumerate(groups)}
        return params


def _specific(token: str) -> bool:
    """Worth finding rows by on its own (not "la", "xr", "5")."""
    return len(token) >= 3


def _tsquery(words: Iterable[Sequence[str]], weights: str = "") -> str:
    """``('a':* | 'b':*) & ('c':*)`` — words are search keys ([a-z0-9]), so nothing to escape."""
    return " & ".join(
        "(" + " | ".join(f"'{w}':*{weights}" for w in alternatives) + ")" for alternatives in words
    )


def _text_rows(session: Bind, plan: _Plan, limit: int, offset: int) -> list[Any]:
    params = plan.params() | {"limit": limit, "offset": offset}
    return list(session.execute(text(plan.sql()), params).all())


def _text_hits(
    session: Bind, plan: _Plan, limit: int, offset: int
) -> tuple[tuple[MedicationHit, ...], int]:
    rows = _text_rows(session, plan, limit, offset)
    if not rows and offset:
        first = _text_rows(session, plan, 1, 0)
        return (), int(first[0].total) if first else 0
    total = int(rows[0].total) if rows else 0
    return tuple(_hit(r._mapping) for r in rows), total


def _ndc_hits(session: Bind, q: NdcQuery) -> list[MedicationHit]:
    if q.digits_prefix is not None:
        rows = session.execute(
            text(
                f"SELECT {_HIT_COLUMNS}, 1 AS group_size FROM medications m "
                "WHERE m.ndc_digits LIKE :p ORDER BY m.ndc_digits LIMIT :n"
            ),
            {"p": q.digits_prefix + "%", "n": PARTIAL_NDC_MAX},
        ).all()
        return [_hit(r._mapping) for r in rows]
    rows = []
    if q.ndc11 or q.ndc10:
        rows = session.execute(
            text(
                f"""SELECT {_HIT_COLUMNS}, 1 AS group_size, p.ndc AS package_ndc,
                           p.description AS package_description
                      FROM medication_packages p JOIN medications m ON m.id = p.medication_id
                     WHERE p.ndc11 = ANY(:ndc11) OR p.ndc10 = ANY(:ndc10)
                     ORDER BY {_ACTIVE} DESC, m.name, p.ndc"""
            ),
            {"ndc11": list(q.ndc11), "ndc10": list(q.ndc10)},
        ).all()
    if not rows and q.product_digits:
        rows = session.execute(
            text(
                f"""SELECT {_HIT_COLUMNS}, 1 AS group_size FROM medications m
                     WHERE m.ndc_digits = ANY(:digits)
                     ORDER BY {_ACTIVE} DESC, m.name, m.ndc"""
            ),
            {"digits": list(q.product_digits)},
        ).all()
    seen: set[uuid.UUID] = set()
    hits = []
    for r in rows:
        if r.id not in seen:
            seen.add(r.id)
            hits.append(_hit(r._mapping))
    return hits


def _hit(m: Any) -> MedicationHit:
    return MedicationHit(
        id=m["id"],
        name=m["name"],
        generic_name=m["generic_name"],
        strength=m["strength"],
        dosage_form=m["dosage_form"],
        route=m["route"],
        manufacturer=m["manufacturer"],
        ndc=m["ndc"],
        is_controlled=m["is_controlled"],
        dea_schedule=m["dea_schedule"],
        is_otc=m["is_otc"],
        is_active=m["is_active"],
        group_size=int(m.get("group_size") or 1),
        package_ndc=m.get("package_ndc"),
        package_description=m.get("package_description"),
    )


# --- typo correction ------------------------------------------------------------------------


@dataclass
class _Vocabulary:
    words: list[str]  # words of names and generic names: what a typo is corrected to
    counts: dict[str, int]  # products per word
    known: list[str]  # sorted words of every field, to tell a typo from a prefix
    built: float

    def starts_a_word(self, token: str) -> bool:
        i = bisect_left(self.known, token)
        return i < len(self.known) and self.known[i].startswith(token)


_VOCAB_LOCK = threading.Lock()
_VOCABULARIES: dict[str, _Vocabulary] = {}


def _database_key(session: Bind) -> str:
    """The database, not who is signed in to it: every nurse's engine on one PC (and the load
    test's many desks in one process) shares one vocabulary instead of scanning for its own."""
    bind = session.get_bind() if isinstance(session, Session) else session
    return bind.engine.url.set(username=None, password=None).render_as_string()


def _vocabulary(session: Bind) -> _Vocabulary:
    key = _database_key(session)
    with _VOCAB_LOCK:
        vocab = _VOCABULARIES.get(key)
        if vocab is not None and time.monotonic() - vocab.built < VOCABULARY_TTL_S:
            return vocab
    rows = session.execute(
        text(
            "SELECT word, ndoc FROM ts_stat('SELECT search_keys FROM medications', 'AB') "
            "WHERE length(word) >= 3 AND word !~ '^[0-9]'"
        )
    ).all()
    other = session.execute(
        text("SELECT word FROM ts_stat('SELECT search_keys FROM medications', 'CD')")
    ).scalars()
    vocab = make_vocabulary({w: int(n) for w, n in rows}, other)
    with _VOCAB_LOCK:
        _VOCABULARIES[key] = vocab
    return vocab


def make_vocabulary(counts: dict[str, int], other_words: Iterable[str] = ()) -> _Vocabulary:
    """A typo vocabulary: ``counts`` (word of a name or generic name → products using it) is
    what a typo is corrected to; ``other_words`` (strength, form, route, maker words) only tell
    a prefix from a typo. The database builds it from ``ts_stat``, the offline snapshot
    (``services.formulary_cache``) from its rows — the same corrections either way."""
    words = {w: n for w, n in counts.items() if len(w) >= 3 and not w[0].isdigit()}
    known = sorted(set(counts).union(other_words))
    return _Vocabulary(sorted(words), words, known, time.monotonic())


def spelling_alternatives(
    tokens: Sequence[str], vocab: _Vocabulary
) -> tuple[tuple[str, ...], ...] | None:
    """Per token, its spelling corrections (``()`` when it needs none); None when no token
    is corrected. A token is corrected only if no word of the formulary starts with it."""
    candidates = [
        t for t in tokens if len(t) >= FUZZY_MIN_TOKEN and not t[0].isdigit() and t not in SYNONYMS
    ]
    if not candidates or not vocab.words:
        return None
    alternatives: list[tuple[str, ...]] = []
    changed = False
    for tok in tokens:
        alts: tuple[str, ...] = ()
        if tok in candidates and not vocab.starts_a_word(tok):
            alts = _closest(tok, vocab)
            changed = changed or bool(alts)
        alternatives.append(alts)
    return tuple(alternatives) if changed else None


def _joined(tokens: Sequence[str]) -> _Plan | None:
    """ "epi pen" → "epipen": words typed apart that the formulary writes as one."""
    if len(tokens) < 2 or any(t.isdigit() for t in tokens):
        return None
    return _Plan.exact(["".join(tokens)])


def _correct(session: Bind, tokens: Sequence[str]) -> _Plan | None:
    """Spelling alternatives for the words no name starts with (None: nothing to correct)."""
    candidates = [
        t for t in tokens if len(t) >= FUZZY_MIN_TOKEN and not t[0].isdigit() and t not in SYNONYMS
    ]
    if not candidates:
        return None  # nothing to correct: do not load the vocabulary
    alternatives = spelling_alternatives(tokens, _vocabulary(session))
    return _Plan(tuple(tokens), alternatives) if alternatives is not None else None


def _closest(token: str, vocab: _Vocabulary, n: int = 3) -> tuple[str, ...]:
    try:
        from rapidfuzz import fuzz, process
    except ImportError:  # pragma: no cover - rapidfuzz is a dependency; stdlib fallback
        import difflib

        matches = difflib.get_close_matches(token, vocab.words, n=8, cutoff=FUZZY_CUTOFF / 100)
        scored = [(w, difflib.SequenceMatcher(None, token, w).ratio() * 100) for w in matches]
    else:
        found = process.extract(
            token, vocab.words, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=8
        )
        scored = [(w, float(s)) for w, s, _ in found]
    if not scored:
        return ()
    # Prefer the better score; among near-equal ones (within 3 points) the more common word.
    best = max(s for _, s in scored)
    ranked = sorted(
        scored,
        key=lambda ws: (-(round(ws[1] / 3)), -math.log1p(vocab.counts.get(ws[0], 0)), ws[0]),
    )
    return tuple(w for w, s in ranked if s >= best - 8)[:n]


def warm_up(session: Bind) -> None:
    """Build the typo vocabulary now (call once off the GUI thread at start-up)."""
    _vocabulary(session)
