"""Chinese personal names as comparison keys, plus a homophone-aware name similarity.

Names are compared, never rewritten: `add_name_keys` adds key columns beside the stored name, and
`name_similarity` scores aligned pairs of names in bulk. The Python-only libraries (opencc,
pypinyin) run once per distinct character; polars and numpy do the per-name and per-pair work,
so a million-row roster costs seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TypeVar

import numpy as np
import opencc
import polars as pl
from pypinyin import Style, pinyin

WILDCARD = "?"

NAME_KEY_SCHEMA: dict[str, pl.DataType] = {
    "name_key": pl.String(),
    "name_pinyin": pl.List(pl.List(pl.String())),
    "name_initials": pl.String(),
    "name_has_wildcard": pl.Boolean(),
}

# Whitespace, controls and format characters (zero-width space/joiner, word joiner, BOM, soft
# hyphen) are invisible in Excel yet break equality. Dots and hyphens separate the parts of
# transliterated minority names and are typed inconsistently, so all variants are dropped.
# Applied after NFKC, which has already mapped U+FF0E to '.', U+FF0D to '-' and U+FF65 to U+30FB.
_INVISIBLE_OR_SEPARATOR = (
    r"[\s\p{Cc}\p{Cf}"
    r"\x{00B7}\x{2022}\x{30FB}\x{2027}\x{2219}\x{22C5}"
    r".\-\x{2010}-\x{2015}]"
)
# What legacy systems write in place of a character they cannot encode (生僻字): question marks,
# boxes, the geta mark, masking asterisks, the replacement character and private-use 造字.
# U+3007 〇 is a real character (and a real name character), so it is not in this class.
_PLACEHOLDER = r"[?□■〓*\x{FFFD}\p{Co}]"

# Toneless surname readings that pypinyin does not list first (单 dan, 曾 ceng, ...). Only
# characters whose surname reading is unambiguous are listed: 乐 (le/yue) and 牟 (mou/mu) are both
# real surname readings, so their pypinyin order is kept.
_SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "单": ("shan",),
    "曾": ("zeng",),
    "解": ("xie",),
    "仇": ("qiu",),
    "区": ("ou",),
    "朴": ("piao",),
    "覃": ("qin",),
    "查": ("zha",),
    "盖": ("ge",),
    "缪": ("miao",),
    "员": ("yun",),
    "种": ("chong",),
    "秘": ("bi",),
    "召": ("shao",),
    "折": ("she",),
    "繁": ("po",),
    "蕃": ("pi",),
    "句": ("gou",),
    "翟": ("zhai",),
    "祭": ("zhai",),
    "阚": ("kan",),
    "万俟": ("mo", "qi"),
    "尉迟": ("yu", "chi"),
    "澹台": ("tan", "tai"),
}

# Similarity costs per aligned character (see `name_similarity`).
HOMOPHONE_COST = 0.1
WILDCARD_COST = 0.2
SPLIT_COST = 0.6
TRANSPOSE_COST = 0.5
MISMATCH_COST = 1.0
INDEL_COST = 1.0
# Below four characters a rotation is a surname/given-name swap (李明 vs 明李), which is a
# different person far more often than a transposed minority name.
MIN_UNITS_FOR_TRANSPOSE = 4

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

# Regexes that split a key into characters, or into comparison units (see `_Encoding`).
_CHARACTER = r"(?s)."
_UNIT = r"(?s)[A-Za-z]+|."
_CELLS_PER_CHUNK = 1 << 23
_WORD = (1 << 64) - 1


# ---------------------------------------------------------------------------------------- keys


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@cache
def _fold_character(character: str) -> str:
    """Traditional to simplified, one character at a time.

    Per character rather than per string: opencc's phrase table keeps 乾 in 乾隆 but folds a lone
    乾 to 干, and a name is not a phrase, so whole-string conversion would give one person two
    keys. t2s is iterated to a fixed point because it chains (薴 → 苧 → 苎) and keys must be
    idempotent.
    """
    folded = character
    for _ in range(4):
        again = _t2s().convert(folded)
        if again == folded:
            break
        folded = again
    return folded


@cache
def _character_readings(character: str) -> tuple[str, ...]:
    """Toneless pypinyin readings, most common first; non-Han characters read as themselves."""
    if character == WILDCARD:
        return ()
    readings = pinyin(character, style=Style.NORMAL, heteronym=True)[0]
    if readings == [character]:
        # pypinyin echoes what it cannot read: Latin letters, digits and Han characters it lacks
        # (e.g. 𠮷 U+20BB7), which then only ever agree with themselves.
        return (character.lower(),)
    return tuple(dict.fromkeys(readings))


def _surname_first(readings: tuple[str, ...], surname_reading: str) -> tuple[str, ...]:
    if not surname_reading:
        return readings
    return (surname_reading, *(r for r in readings if r != surname_reading))


def _keys(names: pl.Series) -> pl.Series:
    """`name_key` for each name."""
    cleaned = (
        names.cast(pl.String)
        .to_frame("name")
        .select(
            pl.col("name")
            .str.normalize("NFKC")
            .str.replace_all(_INVISIBLE_OR_SEPARATOR, "")
            # Removing a zero-width character can bring a letter and a combining mark together,
            # so normalise again or the key of a key would differ.
            .str.normalize("NFKC")
            .str.replace_all(_PLACEHOLDER, WILDCARD)
        )
        .to_series()
    )
    characters = cleaned.str.split("").explode().drop_nulls().unique().to_list()
    folds = {c: folded for c in characters if (folded := _fold_character(c)) != c}
    if folds:
        cleaned = cleaned.str.replace_many(list(folds), list(folds.values()))
    return cleaned.replace("", None).rename("name_key")


def _units_frame(keys: pl.Series, pattern: str) -> pl.DataFrame:
    """One row per unit (regex match) of every non-null key, in key and then unit order.

    Columns: key_index, unit, and surname_reading, the reading the unit must list first because
    it is (part of) the surname, or "".
    """
    surnames = pl.DataFrame(
        {
            "surname": list(_SURNAME_READINGS),
            "first": [readings[0] for readings in _SURNAME_READINGS.values()],
            "second": [(*readings, "")[1] for readings in _SURNAME_READINGS.values()],
        }
    )
    compounds = [surname for surname in _SURNAME_READINGS if len(surname) == 2]
    key = pl.col("key")
    position = pl.col("position")
    return (
        keys.rename("key")
        .to_frame()
        .with_row_index("key_index")
        .filter(key.is_not_null())
        .with_columns(
            surname=pl.when(key.str.slice(0, 2).is_in(compounds))
            .then(key.str.slice(0, 2))
            .otherwise(key.str.slice(0, 1)),
            unit=key.str.extract_all(pattern),
        )
        .join(surnames, on="surname", how="left", maintain_order="left")
        .with_columns(position=pl.int_ranges(pl.col("unit").list.len()))
        .explode("unit", "position")
        .select(
            "key_index",
            "unit",
            surname_reading=pl.when(position == 0)
            .then(pl.col("first"))
            .when(position == 1)
            .then(pl.col("second"))
            .fill_null(""),
        )
    )


def _keys_for_distinct(names: pl.Series) -> pl.DataFrame:
    """Key columns for a Series of distinct names; row i describes names[i].

    Python runs once per distinct character (and surname position), not per name: the polars
    explode/join/group_by around it is what keeps a 300k-name roster within seconds.
    """
    keys = _keys(names)
    units = _units_frame(keys, _CHARACTER)
    table = units.select("unit", "surname_reading").unique()
    readings = [
        _surname_first(_character_readings(unit), surname_reading)
        for unit, surname_reading in table.iter_rows()
    ]
    table = table.with_columns(
        readings=pl.Series([list(r) for r in readings], dtype=pl.List(pl.String)),
        initial=pl.Series([r[0][0] if r else WILDCARD for r in readings], dtype=pl.String),
    )
    per_key = (
        units.join(table, on=["unit", "surname_reading"], how="left", maintain_order="left")
        .group_by("key_index", maintain_order=True)
        .agg(name_pinyin=pl.col("readings"), name_initials=pl.col("initial").str.join(""))
    )
    return (
        pl.DataFrame([names.cast(pl.String).alias("__name"), keys])
        .with_row_index("key_index")
        .join(per_key, on="key_index", how="left", maintain_order="left")
        .select(
            "__name",
            "name_key",
            "name_pinyin",
            "name_initials",
            name_has_wildcard=pl.col("name_key").str.contains(WILDCARD, literal=True),
        )
    )


def _name_keys_batch(names: pl.Series, *, with_pinyin: bool = True) -> pl.Series:
    names = names.cast(pl.String).alias("__name")
    keys = _keys_for_distinct(names.unique())
    if not with_pinyin:
        # Nested reading lists are the costliest column to join back and to store.
        keys = keys.drop("name_pinyin")
    joined = names.to_frame().join(
        keys, on="__name", how="left", validate="m:1", maintain_order="left"
    )
    return joined.drop("__name").to_struct("__name_keys")


def name_keys(name: pl.Expr, *, with_pinyin: bool = True) -> pl.Expr:
    """Struct expression with the key fields of `add_name_keys`, for use inside a query."""
    schema = {k: v for k, v in NAME_KEY_SCHEMA.items() if with_pinyin or k != "name_pinyin"}
    return name.map_batches(
        lambda names: _name_keys_batch(names, with_pinyin=with_pinyin),
        return_dtype=pl.Struct(schema),
    )


def add_name_keys(df: Frame, name_col: str = "name", *, with_pinyin: bool = True) -> Frame:
    """Add name comparison keys to a roster; the stored name column is left untouched.

    Adds:
        name_key (String): NFKC; whitespace, invisible characters and minority-name dots
            (· • ． ・ ‧ . - ‐ －) removed; traditional folded to simplified per character
            (opencc t2s, lossy: 於→于, 乾→干, 鍾/鐘→钟); placeholders for unencodable characters
            (? ？ □ ■ 〓 * U+FFFD, private use) replaced by the wildcard '?'. Null if nothing is
            left.
        name_pinyin (List[List[String]]): per character of name_key, its toneless readings with
            heteronyms, most common first; the first character (or a compound surname such as
            万俟) has its surname reading first (单 → shan, dan, chan). Wildcard → []; characters
            pypinyin cannot read (Latin, digits, some Ext-B) → [the lowercased character].
        name_initials (String): first letter of the first reading per character, '?' for
            wildcards; a blocking key.
        name_has_wildcard (Boolean).

    The work runs once per distinct name inside a polars `map_batches`, so a LazyFrame stays
    lazy, and existing key columns are replaced. `with_pinyin=False` leaves out name_pinyin, for
    bulk staging where only the key and the blocking initials are needed.
    """
    return (
        df.with_columns(name_keys(pl.col(name_col), with_pinyin=with_pinyin).alias("__name_keys"))
        .drop(list(NAME_KEY_SCHEMA), strict=False)
        .unnest("__name_keys")
    )


# ---------------------------------------------------------------------------------- similarity


@cache
def _phrase_readings() -> dict[str, frozenset[str]]:
    """Toneless readings each character takes in pypinyin's phrase dictionary (~5,000 characters).

    pypinyin's per-character heteronyms include archaic readings (王 has yu, 方 has wang), so
    comparing full sets would make 王 a homophone of 于/余/俞/玉/方. A reading used in real words
    is the evidence that a clerk could have heard it.
    """
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.phrases_dict import phrases_dict  # 47k phrases: loaded only for similarity

    toneless = cache(to_normal)
    readings: dict[str, set[str]] = {}
    for phrase, phrase_readings in phrases_dict.items():
        for character, character_readings in zip(phrase, phrase_readings, strict=False):
            readings.setdefault(character, set()).add(toneless(character_readings[0]))
    return {character: frozenset(found) for character, found in readings.items()}


def _attested(character: str, readings: tuple[str, ...]) -> tuple[str, ...]:
    """The readings that count for homophones: the first (the surname reading for a surname)
    plus those used in phrases; all of them for a character no phrase uses (most 生僻字)."""
    used = _phrase_readings().get(character)
    if used is None:
        return readings
    return tuple(r for i, r in enumerate(readings) if i == 0 or r in used)


def _unit(unit: str, surname_reading: str) -> tuple[str, tuple[str, ...], bool]:
    """(text compared for equality, readings compared for homophones, is readable Han)."""
    if unit[0].isascii() and unit[0].isalpha():
        return unit.lower(), (unit.lower(),), False
    readings = _character_readings(unit)
    if not readings or readings == (unit.lower(),):
        # Wildcards, digits, other scripts and Han characters pypinyin lacks: equality only.
        return unit, (), False
    return unit, _attested(unit, _surname_first(readings, surname_reading)), True


class _Encoding:
    """Names as flat arrays of comparison units, for vectorised comparison.

    A unit is one character, except that a run of ASCII letters is one unit: legacy systems
    type the pinyin of a character they cannot encode (王wei华 for 王韡华), and the run must line
    up with that one character. Each unit has a code (equal codes = same unit; 0 is the
    wildcard) and a reading set, stored as a bitmask so that "sets intersect" is one AND.
    Python runs once per distinct unit.
    """

    def __init__(self, keys: pl.Series) -> None:
        units = _units_frame(keys, _UNIT)
        distinct = units.select("unit", "surname_reading").unique(maintain_order=True)
        unit_codes: dict[str, int] = {WILDCARD: 0}
        set_ids: dict[tuple[tuple[str, ...], bool], int] = {((), False): 0}
        codes: list[int] = []
        sets: list[int] = []
        for unit, surname_reading in distinct.iter_rows():
            text, readings, is_han = _unit(unit, surname_reading)
            codes.append(unit_codes.setdefault(text, len(unit_codes)))
            sets.append(set_ids.setdefault((readings, is_han), len(set_ids)))
        flat = units.join(
            distinct.with_columns(
                code=pl.Series(codes, dtype=pl.Int64), set=pl.Series(sets, dtype=pl.Int64)
            ),
            on=["unit", "surname_reading"],
            how="left",
            maintain_order="left",
        )
        self.code = flat["code"].to_numpy()
        self.set = flat["set"].to_numpy()
        self.length = np.bincount(flat["key_index"].to_numpy(), minlength=len(keys))
        self.offset = np.cumsum(self.length) - self.length
        self._tabulate(list(set_ids))

    def _tabulate(self, reading_sets: list[tuple[tuple[str, ...], bool]]) -> None:
        # Bits only for readings of Han units: an ASCII run that is no syllable (a Latin "ali")
        # can only equal itself, which the code already says, and a bit each would widen masks.
        syllables: dict[str, int] = {}
        for readings, is_han in reading_sets:
            if is_han:
                for reading in readings:
                    syllables.setdefault(reading, len(syllables))
        masks = [
            sum(1 << syllables[r] for r in readings if r in syllables)
            for readings, _ in reading_sets
        ]
        words = max(1, -(-len(syllables) // 64))
        self.mask = np.array(
            [[(mask >> (64 * w)) & _WORD for w in range(words)] for mask in masks],
            dtype=np.uint64,
        ).reshape(len(reading_sets), words)
        self.is_han = np.array([is_han for _, is_han in reading_sets], dtype=bool)

    def compare(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For flat unit positions a[i], b[i]: the cost of aligning them, and whether they are
        different units that read alike (what makes one the phonetic half of the other)."""
        code_a, code_b = self.code[a], self.code[b]
        share_reading = (self.mask[self.set[a]] & self.mask[self.set[b]]).any(axis=1)
        cost = np.where(share_reading, HOMOPHONE_COST, MISMATCH_COST)
        cost[(code_a == 0) | (code_b == 0)] = WILDCARD_COST
        cost[code_a == code_b] = 0.0
        return cost, share_reading & (code_a != code_b)

    def han(self, units: np.ndarray) -> np.ndarray:
        return self.is_han[self.set[units]]


def _equal_length_costs(encoding: _Encoding, ia: np.ndarray, ib: np.ndarray, n: int) -> np.ndarray:
    start_a, start_b = encoding.offset[ia], encoding.offset[ib]
    shifts = range(n) if n >= MIN_UNITS_FOR_TRANSPOSE else range(1)
    best = np.full(len(ia), np.inf)
    for shift in shifts:
        total = np.full(len(ia), TRANSPOSE_COST if shift else 0.0)
        for j in range(n):
            total += encoding.compare(start_a + j, start_b + (j + shift) % n)[0]
        np.minimum(best, total, out=best)
    return best


def _edit_costs(encoding: _Encoding, ia: np.ndarray, ib: np.ndarray, n: int, m: int) -> np.ndarray:
    """Weighted edit distance for pairs whose names have n and m units, vectorised over pairs.

    A split (one Han unit against two adjacent units) needs a glyph decomposition to prove; the
    proxy is that one half is a different character sharing a reading, as the phonetic
    component of most 形声字 does (韡 = 韦 + 华, 韦 and 韡 both wei).
    """
    start_a, start_b = encoding.offset[ia], encoding.offset[ib]
    cost = np.empty((n, m, len(ia)))
    alike = np.empty((n, m, len(ia)), dtype=bool)
    for i in range(n):
        for j in range(m):
            cost[i, j], alike[i, j] = encoding.compare(start_a + i, start_b + j)
    han_a = [encoding.han(start_a + i) for i in range(n)]
    han_b = [encoding.han(start_b + j) for j in range(m)]

    d = np.empty((n + 1, m + 1, len(ia)))
    d[:, 0] = INDEL_COST * np.arange(n + 1)[:, None]
    d[0, :] = INDEL_COST * np.arange(m + 1)[:, None]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best = np.minimum(d[i - 1, j], d[i, j - 1]) + INDEL_COST
            np.minimum(best, d[i - 1, j - 1] + cost[i - 1, j - 1], out=best)
            if j >= 2:
                split = han_a[i - 1] & (alike[i - 1, j - 2] | alike[i - 1, j - 1])
                np.minimum(best, np.where(split, d[i - 1, j - 2] + SPLIT_COST, np.inf), out=best)
            if i >= 2:
                split = han_b[j - 1] & (alike[i - 2, j - 1] | alike[i - 1, j - 1])
                np.minimum(best, np.where(split, d[i - 2, j - 1] + SPLIT_COST, np.inf), out=best)
            d[i, j] = best
    return d[n, m]


def name_similarity(
    left: Sequence[str | None] | pl.Series, right: Sequence[str | None] | pl.Series
) -> np.ndarray:
    """Similarity in [0, 1] of left[i] and right[i]; NaN where either name is missing.

    Takes stored names or `name_key` values alike (keys are recomputed per distinct name, and
    keying is idempotent), so callers need not carry `name_pinyin` around.

    Both names are split into units (characters, except that a run of ASCII letters is one unit,
    being pinyin typed for an unencodable character) and aligned. An aligned pair costs:

        0     same unit
        0.1   homophones: their reading sets intersect (王芳/王方 fang, 曾 zeng/增 zeng,
              卜/布 bu, the pinyin run wei/韡). A set holds the first pypinyin reading (the surname
              reading for the surname, 单 shan) plus the readings pypinyin's phrase dictionary
              uses; pypinyin's archaic heteronyms are left out (王 has yu, 方 has wang, so full
              sets would make 王 a homophone of 于/余/俞/玉/方). A character no phrase uses keeps
              all its readings. `name_pinyin` still lists every reading.
        0.2   either unit is the wildcard '?'
        1     anything else

    Same number of units: compared position by position (characters do not shift without a
    length change). With four or more units every rotation is also tried at +0.5, for
    transposed minority names (阿卜杜·热合曼 vs 热合曼·阿卜杜: keys have lost the dots).
    Different numbers of units: weighted edit distance with insertion/deletion 1, plus a split
    of one Han character into two adjacent units at 0.6 when one half is a different character
    sharing a reading (韡 written 韦华).

    similarity = max(0, 1 - cost / max(units_left, units_right)), so identical keys score 1,
    王芳/王方 0.95, 王?华/王晓华 0.93, 王韡/王韦华 0.8, 张三/张三丰 0.67 and 王芳/李芳 0.5.
    A name whose key is empty (only spaces or dots) scores NaN like a null.

    Everything is numpy over pairs grouped by unit counts; Python runs once per distinct name
    and distinct character.
    """
    left_s = pl.Series("left", left, dtype=pl.String, strict=False)
    right_s = pl.Series("right", right, dtype=pl.String, strict=False)
    if len(left_s) != len(right_s):
        raise ValueError(f"left and right differ in length: {len(left_s)} != {len(right_s)}")

    distinct = pl.concat([left_s, right_s]).unique().drop_nulls().alias("__name")
    encoding = _Encoding(_keys(distinct))
    lookup = distinct.to_frame().with_row_index("__index")

    def index_of(values: pl.Series) -> np.ndarray:
        joined = (
            values.alias("__name")
            .to_frame()
            .join(lookup, on="__name", how="left", maintain_order="left")
        )
        return joined["__index"].cast(pl.Int64).fill_null(-1).to_numpy()

    ia, ib = index_of(left_s), index_of(right_s)
    # Index -1 (a null) lands on the appended zero length.
    lengths = np.append(encoding.length, 0)
    length_a, length_b = lengths[ia], lengths[ib]
    # A name that keys to nothing (only spaces or dots) is as missing as a null.
    present = (length_a > 0) & (length_b > 0)
    cost = np.zeros(len(ia))

    for n, m in np.unique(np.stack([length_a, length_b])[:, present], axis=1).T.tolist():
        rows = np.flatnonzero(present & (length_a == n) & (length_b == m))
        # Bound the (n+1) x (m+1) x pairs DP arrays to ~64 MB each for long minority names.
        chunks = -(-len(rows) * (n + 1) * (m + 1) // _CELLS_PER_CHUNK)
        for chunk in np.array_split(rows, chunks):
            if n == m:
                cost[chunk] = _equal_length_costs(encoding, ia[chunk], ib[chunk], n)
            else:
                cost[chunk] = _edit_costs(encoding, ia[chunk], ib[chunk], n, m)

    score = np.full(len(ia), np.nan)
    longest = np.maximum(length_a, length_b)[present]
    score[present] = np.clip(1.0 - cost[present] / longest, 0.0, 1.0)
    return score
