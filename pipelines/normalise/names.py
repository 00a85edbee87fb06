"""Chinese personal names as comparison keys, plus a homophone-aware name similarity.

Names are compared, never rewritten: `add_name_keys` adds key columns beside the stored name, and
`name_similarity` scores aligned pairs of names in bulk. The Python-only libraries (opencc,
pypinyin) run once per distinct character; polars and numpy do the per-name work and rapidfuzz
compares the pairs, so a million-row roster costs seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from typing import TypeVar

import numpy as np
import opencc
import polars as pl
from pypinyin import Style, pinyin
from rapidfuzz import process
from rapidfuzz.distance import Hamming, Levenshtein

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

# Similarity costs per aligned unit (see `name_similarity`); a mismatch, insertion or deletion
# costs 1, the unit of both rapidfuzz distances.
HOMOPHONE_COST = 0.1
WILDCARD_COST = 0.2
SPLIT_COST = 0.6
TRANSPOSE_COST = 0.5
# Below four characters a rotation is a surname/given-name swap (李明 vs 明李), which is a
# different person far more often than a transposed minority name.
MIN_UNITS_FOR_TRANSPOSE = 4

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

# Regexes that split a key into characters, or into comparison units (see `_Encoding`).
_CHARACTER = r"(?s)."
_UNIT = r"(?s)[A-Za-z]+|."
# Unit codes of the wildcard and of the merged half of a split (see `_split_costs`).
_WILDCARD_CODE = 0
_SPLIT_CODE = 1
_PAIRS_PER_CHUNK = 1 << 16


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


def _name_keys_batch(names: pl.Series) -> pl.Series:
    names = names.cast(pl.String).alias("__name")
    keys = _keys_for_distinct(names.unique())
    joined = names.to_frame().join(
        keys, on="__name", how="left", validate="m:1", maintain_order="left"
    )
    return joined.drop("__name").to_struct("__name_keys")


def name_keys(name: pl.Expr) -> pl.Expr:
    """Struct expression with the key fields of `add_name_keys`, for use inside a query."""
    return name.map_batches(_name_keys_batch, return_dtype=pl.Struct(NAME_KEY_SCHEMA))


def add_name_key(df: Frame, name_col: str = "name") -> Frame:
    """Add `name_key` alone (see `add_name_keys`): all that matching reads of a staged row.

    Staging keys every row of a province, and the readings behind `name_pinyin` and
    `name_initials` were about four fifths of the name work there, for columns nothing read;
    scoring takes the readings of the few keys it compares (`_Encoding`)."""
    return df.with_columns(
        pl.col(name_col).map_batches(_keys, return_dtype=pl.String).alias("name_key")
    )


def add_name_keys(df: Frame, name_col: str = "name") -> Frame:
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
    lazy, and existing key columns are replaced. Staging needs only the key (`add_name_key`).
    """
    return (
        df.with_columns(name_keys(pl.col(name_col)).alias("__name_keys"))
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


def _as_heard(syllable: str) -> str:
    """A toneless syllable as a Hunan clerk hears it: Xiang and southwestern Mandarin merge the
    initials n and l and the finals in/ing and en/eng, so 彬 bin and 兵 bing, 宁 ning and 林 lin
    are written for each other. Only these three well-attested mergers are folded; z/zh, f/h and
    an/ang are left apart, where folding would make many different names read alike."""
    if syllable.startswith("n") and syllable != "ng":
        syllable = "l" + syllable[1:]
    if syllable.endswith(("ing", "eng")) and len(syllable) > 3:
        syllable = syllable[:-1]
    return syllable


def _unit(unit: str, surname_reading: str) -> tuple[str, tuple[str, ...], bool]:
    """(text compared for equality, readings compared for homophones, is readable Han)."""
    if unit[0].isascii() and unit[0].isalpha():
        return unit.lower(), (_as_heard(unit.lower()),), False
    readings = _character_readings(unit)
    if not readings or readings == (unit.lower(),):
        # Wildcards, digits, other scripts and Han characters pypinyin lacks: equality only.
        return unit, (), False
    attested = _attested(unit, _surname_first(readings, surname_reading))
    return unit, tuple(dict.fromkeys(_as_heard(reading) for reading in attested)), True


def _code_points(codes: np.ndarray) -> np.ndarray:
    """Non-negative integer codes as code points: never 0 (numpy drops trailing NULs from
    fixed-width strings, and 0 pads reading sets) and never a surrogate, so that rows of them
    make valid str. Order is kept."""
    points = np.asarray(codes, dtype=np.uint32) + 1
    return np.where(points >= 0xD800, points + 0x800, points).astype(np.uint32)


_WILDCARD_POINT = int(_code_points(np.array(_WILDCARD_CODE)))
_SPLIT_POINT = int(_code_points(np.array(_SPLIT_CODE)))
_NO_READING = np.uint32(0)
_ABOVE_ALL = np.uint32(0xFFFFFFFF)


def _strings(points: np.ndarray) -> list[str]:
    """Each row of a 2-D array of code points as one str, built by numpy rather than Python."""
    rows, width = points.shape
    if width == 0:
        return [""] * rows
    return np.ascontiguousarray(points, dtype=np.uint32).view(f"<U{width}").ravel().tolist()


def _distances(equal_length: bool, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
    """Hamming (equal unit counts: characters do not shift without a length change) or
    Levenshtein distance of left[i] and right[i], in rapidfuzz's C loop over all pairs."""
    scorer = Hamming.distance if equal_length else Levenshtein.distance
    if len(left) == 0:
        return np.zeros(0)
    return process.cpdist(left, right, scorer=scorer, workers=-1).astype(np.float64)


def _cost(d_units: np.ndarray, d_readings: np.ndarray) -> np.ndarray:
    # An aligned pair that differs in unit but not in reading is a homophone; one that differs
    # in both, or an insertion or deletion (counted in both distances), costs 1.
    return HOMOPHONE_COST * d_units + (1.0 - HOMOPHONE_COST) * d_readings


def _chosen_readings(sa: np.ndarray, sb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One reading per unit for this pair, from reading sets (rows x units x readings, padded
    with _NO_READING), so that rapidfuzz's equality means "the sets share a reading".

    Equal unit counts: facing units both take their alphabetically first shared reading, so
    the reading strings agree exactly where the sets intersect. Otherwise a unit takes the
    alphabetically first reading it shares with any unit of the other name: alignment is
    rapidfuzz's to find, so the pair is read the way it can agree (exact unless one unit
    shares two readings with different units of the other name). A unit sharing nothing keeps
    its first reading. Codes are in alphabetical order, so "alphabetically first" is a min.
    """
    if sa.shape[2] == 1 and sb.shape[2] == 1:
        return sa[:, :, 0], sb[:, :, 0]
    readable = sa != _NO_READING
    if sa.shape[1] == sb.shape[1]:
        shared_a = (sa[:, :, :, None] == sb[:, :, None, :]).any(axis=3) & readable
        first = np.where(shared_a, sa, _ABOVE_ALL).min(axis=2)
        found = first != _ABOVE_ALL
        return np.where(found, first, sa[:, :, 0]), np.where(found, first, sb[:, :, 0])
    equal = sa[:, :, :, None, None] == sb[:, None, None, :, :]
    shared_a = equal.any(axis=(3, 4)) & readable
    shared_b = equal.any(axis=(1, 2)) & (sb != _NO_READING)

    def pick(sets: np.ndarray, shared: np.ndarray) -> np.ndarray:
        first = np.where(shared, sets, _ABOVE_ALL).min(axis=2)
        return np.where(first != _ABOVE_ALL, first, sets[:, :, 0])

    return pick(sa, shared_a), pick(sb, shared_b)


class _Encoding:
    """Distinct name keys encoded for rapidfuzz, which compares by equality only.

    A unit is one character, except that a run of ASCII letters is one unit: legacy systems
    type the pinyin of a character they cannot encode (王wei华 for 王韡华), and the run must line
    up with that one character. Each unit becomes a code point (equal = same unit) and a set of
    reading code points, from which each pair picks one (see `_chosen_readings`); a unit with
    no reading (a digit, the wildcard) reads as itself.

    Python runs once per distinct unit; numpy builds the per-name arrays and strings.
    """

    def __init__(self, keys: pl.Series) -> None:
        units = _units_frame(keys, _UNIT)
        distinct = units.select("unit", "surname_reading").unique(maintain_order=True)
        # "" is the text of no unit: it stands for the merged half of a split (see _split_costs).
        unit_codes: dict[str, int] = {WILDCARD: _WILDCARD_CODE, "": _SPLIT_CODE}
        codes: list[int] = []
        han: list[bool] = []
        # Syllables are str; a unit without readings reads as the 1-tuple of its text.
        readings: list[tuple[str, ...] | tuple[tuple[str]]] = []
        for unit, surname_reading in distinct.iter_rows():
            text, syllables, is_han = _unit(unit, surname_reading)
            codes.append(unit_codes.setdefault(text, len(unit_codes)))
            han.append(is_han)
            readings.append(syllables or ((text,),))
        tokens = sorted({t for r in readings for t in r}, key=lambda t: (isinstance(t, tuple), t))
        reading_code = {token: code for code, token in enumerate(tokens)}
        count = np.array([len(r) for r in readings], dtype=np.int64)
        table = np.full((len(readings), count.max(initial=1)), _NO_READING, dtype=np.uint32)
        for row, unit_readings in enumerate(readings):
            table[row, : len(unit_readings)] = _code_points(
                np.array([reading_code[t] for t in unit_readings])
            )

        unit_id = (
            units.join(
                distinct.with_row_index("unit_id"),
                on=["unit", "surname_reading"],
                how="left",
                maintain_order="left",
            )
            .get_column("unit_id")
            .to_numpy()
        )
        key_of_unit = units.get_column("key_index").to_numpy()
        self.length = np.bincount(key_of_unit, minlength=len(keys))
        self.unit_start = np.cumsum(self.length) - self.length
        unit_code = np.array(codes, dtype=np.int64)[unit_id]
        self.unit = _code_points(unit_code)
        self.han = np.array(han, dtype=bool)[unit_id]
        self.readings = table[unit_id]
        self.reading_count = count[unit_id]
        per_key = {"minlength": len(keys)}
        self.has_wildcard = np.bincount(key_of_unit, unit_code == _WILDCARD_CODE, **per_key) > 0
        self.heteronym = np.bincount(key_of_unit, self.reading_count > 1, **per_key) > 0
        self.unit_text = self._row_strings(self.unit)
        self.first_reading_text = self._row_strings(self.readings[:, 0])

    def _row_strings(self, flat: np.ndarray) -> np.ndarray:
        strings = np.empty(len(self.length), dtype=object)
        for width in np.unique(self.length).tolist():
            keys = np.flatnonzero(self.length == width)
            strings[keys] = _strings(flat[self._positions(keys, width)])
        return strings

    def _positions(self, keys: np.ndarray, width: int) -> np.ndarray:
        return self.unit_start[keys, None] + np.arange(width)

    def units_of(self, keys: np.ndarray, width: int) -> np.ndarray:
        return self.unit[self._positions(keys, width)]

    def han_of(self, keys: np.ndarray, width: int) -> np.ndarray:
        return self.han[self._positions(keys, width)]

    def readings_of(self, keys: np.ndarray, width: int) -> np.ndarray:
        """Reading sets, rows x units x (most readings among these units)."""
        positions = self._positions(keys, width)
        most = int(self.reading_count[positions].max(initial=1))
        return self.readings[positions, :most]


def _by_width(
    encoding: _Encoding, ka: np.ndarray, kb: np.ndarray, chosen: np.ndarray
) -> Iterator[tuple[int, int, np.ndarray]]:
    """The chosen pairs grouped by unit counts, for code matrices of one shape, in chunks that
    bound the pairs x units x readings x units x readings comparisons of `_chosen_readings`."""
    indices = np.flatnonzero(chosen)
    n, m = encoding.length[ka[indices]], encoding.length[kb[indices]]
    for width_a, width_b in sorted(set(zip(n.tolist(), m.tolist(), strict=True))):
        group = indices[(n == width_a) & (m == width_b)]
        for start in range(0, len(group), _PAIRS_PER_CHUNK):
            yield width_a, width_b, group[start : start + _PAIRS_PER_CHUNK]


def _plain_costs(encoding: _Encoding, ka: np.ndarray, kb: np.ndarray) -> np.ndarray:
    """0.1 d_units + 0.9 d_readings, from strings built once per name where no unit of the pair
    has a second reading, and once per pair where one does."""
    reading_a = encoding.first_reading_text[ka]
    reading_b = encoding.first_reading_text[kb]
    heteronym = encoding.heteronym[ka] | encoding.heteronym[kb]
    for width_a, width_b, rows in _by_width(encoding, ka, kb, heteronym):
        chosen_a, chosen_b = _chosen_readings(
            encoding.readings_of(ka[rows], width_a), encoding.readings_of(kb[rows], width_b)
        )
        reading_a[rows], reading_b[rows] = _strings(chosen_a), _strings(chosen_b)

    cost = np.empty(len(ka))
    equal = encoding.length[ka] == encoding.length[kb]
    for equal_length in (True, False):
        rows = np.flatnonzero(equal == equal_length)
        d_units = _distances(
            equal_length, encoding.unit_text[ka[rows]], encoding.unit_text[kb[rows]]
        )
        d_readings = _distances(equal_length, reading_a[rows], reading_b[rows])
        cost[rows] = _cost(d_units, d_readings)
    return cost


def _filled_costs(
    ua: np.ndarray, ub: np.ndarray, sa: np.ndarray, sb: np.ndarray, shift: int
) -> np.ndarray:
    """Cost of rows given as unit matrices and reading sets once each wildcard has taken the
    unit and readings the other name has `shift` positions on (if any), at WILDCARD_COST each."""
    width_a, width_b = ua.shape[1], ub.shape[1]
    p = np.arange(max(0, -shift), min(width_a, width_b - shift))
    q = p + shift
    wild_a, wild_b = ua[:, p] == _WILDCARD_POINT, ub[:, q] == _WILDCARD_POINT
    # Reading sets of both names padded to one depth, so that either can take the other's.
    depth = max(sa.shape[2], sb.shape[2])
    sa = np.pad(sa, ((0, 0), (0, 0), (0, depth - sa.shape[2])))
    sb = np.pad(sb, ((0, 0), (0, 0), (0, depth - sb.shape[2])))
    fa_u, fb_u, fa_s, fb_s = ua.copy(), ub.copy(), sa.copy(), sb.copy()
    fa_u[:, p] = np.where(wild_a, ub[:, q], ua[:, p])
    fb_u[:, q] = np.where(wild_b, ua[:, p], ub[:, q])
    fa_s[:, p] = np.where(wild_a[:, :, None], sb[:, q], sa[:, p])
    fb_s[:, q] = np.where(wild_b[:, :, None], sa[:, p], sb[:, q])
    # Two wildcards face each other already equal; only a wildcard filled with a unit costs.
    filled = (wild_a ^ wild_b).sum(axis=1)
    ra, rb = _chosen_readings(fa_s, fb_s)
    equal_length = width_a == width_b
    d_units = _distances(equal_length, _strings(fa_u), _strings(fb_u))
    d_readings = _distances(equal_length, _strings(ra), _strings(rb))
    return _cost(d_units, d_readings) + WILDCARD_COST * filled


def _split_costs(
    ua: np.ndarray, ub: np.ndarray, sa: np.ndarray, sb: np.ndarray, han_a: np.ndarray
) -> np.ndarray:
    """a one unit shorter than b: one Han unit of a against two adjacent units of b, at
    SPLIT_COST, when one half is a different unit sharing a reading (韡 written 韦华). A glyph
    decomposition would prove the split; the phonetic component of most 形声字 is the proxy.

    The halves merge into one unit that equals nothing but keeps that half's readings, so the
    split position costs HOMOPHONE_COST and the rest of the names compare position by position.
    """
    best = np.full(len(ua), np.inf)
    for k in range(ua.shape[1]):
        for half in (k, k + 1):
            equal = sa[:, k, :, None] == sb[:, half, None, :]
            shares = (equal & (sa[:, k, :, None] != _NO_READING)).any(axis=(1, 2))
            valid = np.flatnonzero(han_a[:, k] & (ua[:, k] != ub[:, half]) & shares)
            if len(valid) == 0:
                continue
            merged_u = ub[valid][:, [*range(k), k, *range(k + 2, ub.shape[1])]]
            merged_u[:, k] = _SPLIT_POINT
            merged_s = sb[valid][:, [*range(k), half, *range(k + 2, ub.shape[1])]]
            costs = _filled_costs(ua[valid], merged_u, sa[valid], merged_s, 0)
            best[valid] = np.minimum(best[valid], SPLIT_COST - HOMOPHONE_COST + costs)
    return best


def _pair_costs(encoding: _Encoding, ka: np.ndarray, kb: np.ndarray) -> np.ndarray:
    """Cost of each pair: the plain comparison, or a cheaper alternative (see name_similarity).

    a is the name with fewer units (the cost is symmetric).
    """
    cost = _plain_costs(encoding, ka, kb)
    n, m = encoding.length[ka], encoding.length[kb]
    wildcard = encoding.has_wildcard[ka] | encoding.has_wildcard[kb]
    transposable = (n == m) & (n >= MIN_UNITS_FOR_TRANSPOSE)
    for width_a, width_b, rows in _by_width(
        encoding, ka, kb, wildcard | transposable | (m - n == 1)
    ):
        ua, ub = encoding.units_of(ka[rows], width_a), encoding.units_of(kb[rows], width_b)
        sa, sb = encoding.readings_of(ka[rows], width_a), encoding.readings_of(kb[rows], width_b)
        best = cost[rows]
        if (filling := np.flatnonzero(wildcard[rows])).size:
            # Filled from the same position counted from the start, or from the end.
            for shift in {0, width_b - width_a}:
                costs = _filled_costs(ua[filling], ub[filling], sa[filling], sb[filling], shift)
                best[filling] = np.minimum(best[filling], costs)
        if width_a == width_b >= MIN_UNITS_FOR_TRANSPOSE:
            for shift in range(1, width_a):
                rotated_u, rotated_s = np.roll(ub, -shift, axis=1), np.roll(sb, -shift, axis=1)
                costs = TRANSPOSE_COST + _filled_costs(ua, rotated_u, sa, rotated_s, 0)
                best = np.minimum(best, costs)
        if width_b == width_a + 1:
            han_a = encoding.han_of(ka[rows], width_a)
            best = np.minimum(best, _split_costs(ua, ub, sa, sb, han_a))
        cost[rows] = best
    return cost


def name_similarity(
    left: Sequence[str | None] | pl.Series, right: Sequence[str | None] | pl.Series
) -> np.ndarray:
    """Similarity in [0, 1] of left[i] and right[i]; NaN where either name is missing.

    Takes stored names or `name_key` values alike (keys are recomputed per distinct name, and
    keying is idempotent), so callers need not carry `name_pinyin` around.

    Both names are split into units (characters, except that a run of ASCII letters is one
    unit, being pinyin typed for an unencodable character). Aligned units cost:

        0     same unit
        0.1   homophones: different units sharing a reading (王芳/王方 fang, 曾 zeng/增 zeng,
              卜/布 bu, the pinyin run wei/韡). A unit's readings are the first pypinyin reading
              (the surname reading for the surname, 单 shan) plus the readings pypinyin's phrase
              dictionary uses; pypinyin's archaic heteronyms are left out (王 has yu, 方 has
              wang, so full sets would make 王 a homophone of 于/余/俞/玉/方). A character no
              phrase uses keeps all its readings. `name_pinyin` still lists every reading.
        0.2   a wildcard '?' filled with the other name's unit (see below)
        1     anything else, and an inserted or deleted unit

    rapidfuzz only counts equal elements, so the cost is assembled from two distances between
    code strings: d_units, where equal means the same unit, and d_readings, where equal means
    the same reading (a unit without one, such as a digit, reads as itself):

        cost = 0.1 d_units + 0.9 d_readings

    Both are Hamming distances for names of equal unit counts (characters do not shift without
    a length change), and there the sum is exactly the per-position cost above. Otherwise they
    are Levenshtein distances: the two best alignments added up, a lower bound of the best
    single alignment that differs from it only when names disagree in several ways at once.
    A unit with several readings takes, for each pair, one it shares with the other name
    (`_chosen_readings`): with equal counts two facing units then agree exactly when their
    reading sets intersect.

    A pair scores the cheapest of that plain cost and these alternatives:

    - Wildcards: each '?' takes the unit (and readings) the other name has at the same position,
      counted from the start or, as a second try, from the end, at 0.2 each; then both
      distances as above.
    - Transposed minority names (4 or more units, equal counts): every rotation of one name at
      +0.5 (阿卜杜·热合曼 vs 热合曼·阿卜杜: keys have lost the dots). Shorter names get none, as
      a swapped 李明/明李 is a different person far more often.
    - A split (counts differing by one): one Han unit of the shorter name against two adjacent
      units of the longer costs 0.6 when one half is a different unit sharing a reading
      (韡 written 韦华); the other units compare position by position.

    similarity = max(0, 1 - cost / max(units_left, units_right)), so identical keys score 1,
    王芳/王方 0.95, 王?华/王晓华 0.93, 王韡/王韦华 0.8, 张三/张三丰 0.67 and 王芳/李芳 0.5.
    A name whose key is empty (only spaces or dots) scores NaN like a null.

    rapidfuzz does the pairwise work over whole arrays of distinct key pairs; polars and numpy
    prepare the code strings, per distinct name where they can and per pair where a reading or
    a wildcard depends on the other name. Python runs once per distinct character.
    """
    left_s = pl.Series("left", left, dtype=pl.String, strict=False)
    right_s = pl.Series("right", right, dtype=pl.String, strict=False)
    if len(left_s) != len(right_s):
        raise ValueError(f"left and right differ in length: {len(left_s)} != {len(right_s)}")

    score = np.full(len(left_s), np.nan)
    # A Han character guarantees a non-empty key, so identical such names need no keying.
    identical = ((left_s == right_s) & left_s.str.contains(r"\p{Han}")).fill_null(False)
    score[identical.to_numpy()] = 1.0
    rest = (~identical).arg_true().to_numpy()
    if len(rest) == 0:
        return score
    left_s, right_s = left_s.gather(rest), right_s.gather(rest)

    distinct = pl.concat([left_s, right_s]).unique().drop_nulls().alias("__name")
    keys = _keys(distinct)
    distinct_keys = keys.unique().drop_nulls()
    encoding = _Encoding(distinct_keys)
    lookup = (
        pl.DataFrame([distinct, keys.alias("__key")])
        .join(
            distinct_keys.alias("__key").to_frame().with_row_index("__index"),
            on="__key",
            how="left",
        )
        .select("__name", "__index")
    )

    def index_of(values: pl.Series) -> np.ndarray:
        joined = (
            values.alias("__name")
            .to_frame()
            .join(lookup, on="__name", how="left", maintain_order="left")
        )
        return joined["__index"].cast(pl.Int64).fill_null(-1).to_numpy()

    ia, ib = index_of(left_s), index_of(right_s)
    # A null, or a name that keys to nothing (only spaces or dots), is missing.
    present = (ia >= 0) & (ib >= 0)
    same = present & (ia == ib)
    score[rest[same]] = 1.0
    differ = np.flatnonzero(present & ~same)
    # The cost is symmetric, so each unordered key pair is scored once (rosters repeat names),
    # with the name of fewer units first.
    ia, ib = ia[differ], ib[differ]
    length_a, length_b = encoding.length[ia], encoding.length[ib]
    swap = (length_a > length_b) | ((length_a == length_b) & (ia > ib))
    ka, kb = np.where(swap, ib, ia), np.where(swap, ia, ib)
    pairs, which = np.unique(ka * len(distinct_keys) + kb, return_inverse=True)
    ka, kb = pairs // len(distinct_keys), pairs % len(distinct_keys)
    pair_score = np.clip(1.0 - _pair_costs(encoding, ka, kb) / encoding.length[kb], 0.0, 1.0)
    score[rest[differ]] = pair_score[which]
    return score
