"""Resident ID numbers (GB 11643-1999) as polars expressions.

Everything here is vectorised: callers pass column expressions and get expressions back.
Extracts carry IDs damaged in known ways (data contract, "ID numbers as they really
arrive"); every damaged number is either repaired or flagged, never silently dropped.

Eager `DataFrame.select` does no common-subexpression elimination, so an expression that
names the same intermediate ten times computes it ten times. The builders below therefore
stage their work in a struct (`struct.with_fields`) and address earlier results with
`pl.field`, which costs a column lookup instead of a recomputation.
"""

from __future__ import annotations

import datetime
import functools

import polars as pl

# ISO 7064 MOD 11-2 weights for the first 17 characters: 2^(17-i) mod 11.
CHECK_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"

# valid: 18 characters, check character right, real birth date in [1880, as_of].
# upgraded: a 15-digit legacy number with a real date, rewritten to 18 characters.
# bad_check: digits and date fine, check character wrong; kept for review, never a key.
# precision_lost: a float destroyed the tail (scientific text, a numeric xlsx cell with
#   16-18 digits, or 18 digits ending 000 that fail the check); at most prefix15 is usable.
# invalid: anything else that is not blank; missing: blank.
ID_KINDS: tuple[str, ...] = (
    "valid",
    "upgraded",
    "bad_check",
    "precision_lost",
    "invalid",
    "missing",
)
ID_FLAGS: tuple[str, ...] = (
    "whitespace",
    "invisible",
    "fullwidth",
    "lowercase_x",
    "apostrophe",
    "hyphen",
    "float_rendering",
    "excel_rounded",
    "numeric_cell",
    "legacy15",
    "bad_check",
    "bad_date",
    "future_date",
    "bad_length",
    "non_digit",
)
OUTPUT_FIELDS: tuple[str, ...] = (
    "id_number",
    "id_clean",
    "id_prefix15",
    "id_kind",
    "id_birth_date",
    "id_sex",
    "id_flags",
)
# Kinds whose 18 characters can be used as a key, and kinds whose digits can be read.
TRUSTED_KINDS: list[str] = ["valid", "upgraded"]
READABLE_KINDS: list[str] = ["valid", "upgraded", "bad_check"]

# An earlier "birth date" is a data error, not a person on a current roster.
EARLIEST_BIRTH = datetime.date(1880, 1, 1)

# `\d` in the Rust regex engine is Unicode-aware (Arabic-Indic digits match), so spell ASCII.
_DIGITS = r"^[0-9]+$"
_DIGITS_15 = r"^[0-9]{15}$"
_DIGITS_17 = r"^[0-9]{17}$"
_ID_18 = r"^[0-9]{17}[0-9X]$"
_PLAIN = r"^(?:[0-9]{15}|[0-9]{17}[0-9X])$"
# Soft hyphen and direction marks also arrive from copy-paste and survive NFKC like U+200B.
_INVISIBLE = r"\x{200B}-\x{200D}\x{2060}\x{FEFF}\x{00AD}\x{200E}\x{200F}"
_HYPHENS = r"\-\x{2010}-\x{2015}\x{2212}"
_APOSTROPHES = r"'\x{2018}\x{2019}`"
_FULLWIDTH = r"[\x{FF01}-\x{FF5E}]"
# What people and fonts type for the check character X (after NFKC folded full-width).
_X_LOOKALIKES = ["x", "\u00d7", "\u0425", "\u0445"]
_SCIENTIFIC = r"^([0-9]+)(?:\.([0-9]*))?[eE]\+?([0-9]{1,2})$"
_DECIMAL_ZERO = r"^([0-9]+)\.0*$"
# Enough zeros to expand the mantissa of any ID-sized float.
_ZERO_PAD = "0" * 24

F = pl.field


# --- check character and the 15 -> 18 upgrade ----------------------------------------------


def _check_of_number(number: pl.Expr) -> pl.Expr:
    """MOD 11-2 check character of the first 17 digits held as an integer.

    Integer digit extraction is several times cheaper than 17 string slices.
    """
    weighted = pl.sum_horizontal(
        [(number // 10 ** (16 - i)) % 10 * weight for i, weight in enumerate(CHECK_WEIGHTS)],
        ignore_nulls=False,
    )
    return (weighted % 11).replace_strict(
        list(range(11)), list(CHECK_CHARACTERS), return_dtype=pl.String
    )


def _with_check(staged: pl.Expr, body: str, *, known_digits: bool = False) -> pl.Expr:
    """Add fields `_number` and `check` for the 17-digit field `body` (else null).

    `known_digits` skips the regex when `body` is already ASCII digits or null; the cast
    alone would accept a sign.
    """
    is_17_digits = F(body).str.len_bytes() == 17
    if not known_digits:
        is_17_digits = is_17_digits & F(body).str.contains(_DIGITS_17)
    return staged.struct.with_fields(
        _number=pl.when(is_17_digits).then(F(body).cast(pl.Int64, strict=False))
    ).struct.with_fields(check=_check_of_number(F("_number")))


def check_character(first17: pl.Expr) -> pl.Expr:
    """The check character for a 17-digit string expression (null if not 17 digits)."""
    return _with_check(pl.struct(body=first17), "body").struct.field("check").name.keep()


def _legacy_body(text: pl.Expr) -> pl.Expr:
    """The first 17 characters of the 18-character form of a 15-digit number.

    GB 11643-1999 inserts the century "19" after the address code; everyone who still
    holds a 15-digit number was born in the 1900s.
    """
    return pl.concat_str([text.str.slice(0, 6), pl.lit("19"), text.str.slice(6, 9)])


def upgrade_15_to_18(expr: pl.Expr) -> pl.Expr:
    """The 18-character form of a 15-digit legacy number (null if not 15 digits)."""
    staged = pl.struct(text=expr).struct.with_fields(
        body=pl.when(F("text").str.contains(_DIGITS_15)).then(_legacy_body(F("text")))
    )
    return (
        _with_check(staged, "body")
        .struct.with_fields(id18=pl.concat_str([F("body"), F("check")]))
        .struct.field("id18")
        .name.keep()
    )


# --- text cleaning --------------------------------------------------------------------------


def _strip_damage(nfkc: pl.Expr) -> pl.Expr:
    """Remove spacing, invisibles, hyphens and a leading apostrophe; fold X look-alikes."""
    return (
        nfkc.str.replace_all(rf"[\s{_INVISIBLE}{_HYPHENS}]", "")
        .str.replace(rf"^[{_APOSTROPHES}]+", "")
        .str.replace_many(_X_LOOKALIKES, ["X"] * len(_X_LOOKALIKES))
    )


def _with_clean_text(staged: pl.Expr) -> pl.Expr:
    """Add field `text` (see clean_id_text) to a struct holding the String field `raw`.

    Also adds `odd` (raw text that needs cleaning, "" for plain numbers) and its `nfkc`,
    which the damage flags read.
    """
    return (
        staged.struct.with_fields(plain=F("raw").str.contains(_PLAIN))
        # Nearly every cell is already a plain number. Handing the costly NFKC and regex
        # passes an empty string for those makes the passes almost free.
        .struct.with_fields(odd=pl.when(F("plain")).then(pl.lit("")).otherwise(F("raw")))
        # NFKC leaves ASCII alone, and ASCII damage (spaces, apostrophes) is the common kind.
        .struct.with_fields(ascii=F("odd").str.len_bytes() == F("odd").str.len_chars())
        .struct.with_fields(
            nfkc=pl.when(F("ascii"))
            .then(F("odd"))
            .otherwise(pl.when(~F("ascii")).then(F("odd")).str.normalize("NFKC"))
        )
        .struct.with_fields(stripped=_strip_damage(F("nfkc")))
        .struct.with_fields(
            text=pl.when(F("plain"))
            .then(F("raw"))
            .when(F("stripped").str.len_bytes() > 0)
            .then(F("stripped"))
        )
    )


def clean_id_text(raw: pl.Expr) -> pl.Expr:
    """Undo text damage: width, spacing, invisibles, apostrophe, hyphens, X look-alikes.

    NFKC folds full-width characters; the result may still be an invalid number, and
    empty text becomes null.
    """
    staged = pl.struct(raw=raw.cast(pl.String))
    return _with_clean_text(staged).struct.field("text").name.keep()


def _text_damage(odd: pl.Expr, nfkc: pl.Expr) -> dict[str, pl.Expr]:
    """Which repairs the cleaning makes, judged on the text before it."""
    return {
        "flag_whitespace": odd.str.contains(r"\s"),
        "flag_invisible": odd.str.contains(rf"[{_INVISIBLE}]"),
        "flag_fullwidth": odd.str.contains(_FULLWIDTH),
        # After NFKC so that a full-width x counts too.
        "flag_lowercase_x": nfkc.str.contains(r"[x\x{00D7}\x{0425}\x{0445}]"),
        "flag_apostrophe": nfkc.str.contains(rf"^[\s{_INVISIBLE}]*[{_APOSTROPHES}]"),
        "flag_hyphen": nfkc.str.contains(rf"[{_HYPHENS}]"),
    }


# --- float renderings -----------------------------------------------------------------------


def _float_parts(text: pl.Expr) -> dict[str, pl.Expr]:
    return {
        "sci": text.str.extract_groups(_SCIENTIFIC),
        "decimal_integer": text.str.extract(_DECIMAL_ZERO, 1),
    }


def _expanded_text(text: pl.Expr, sci: pl.Expr, decimal_integer: pl.Expr) -> dict[str, pl.Expr]:
    """Turn float renderings back into digit strings (`4.30124e+17` -> `430124000000000000`).

    `written` counts the digits a scientific rendering really carries; the zeros that pad
    a short mantissa are not digits of the number.
    """
    integer = sci.struct.field("1")
    fraction = sci.struct.field("2").fill_null("")
    scientific = integer.is_not_null()
    width = integer.str.len_chars().cast(pl.Int32) + sci.struct.field("3").cast(pl.Int32)
    expanded = pl.concat_str([integer, fraction, pl.lit(_ZERO_PAD)]).str.slice(0, width)
    return {
        "clean": pl.when(scientific)
        .then(expanded)
        .when(decimal_integer.is_not_null())
        .then(decimal_integer)
        .otherwise(text),
        "scientific": scientific,
        "float_text": scientific | decimal_integer.is_not_null(),
        "written": pl.when(scientific)
        .then(integer.str.len_chars() + fraction.str.len_chars())
        .otherwise(pl.lit(18, dtype=pl.UInt32)),
    }


# --- reading the number ---------------------------------------------------------------------


def _shape(clean: pl.Expr, plain: pl.Expr) -> dict[str, pl.Expr]:
    """Length and character classes of the cleaned text.

    Rows that arrived plain are classified by length alone; the regexes only see the rest.
    """
    odd = pl.when(plain).then(pl.lit("")).otherwise(clean)
    length = clean.str.len_chars()
    return {
        "length": length,
        "is15": (plain & (length == 15) | odd.str.contains(_DIGITS_15)).fill_null(False),
        "is18": (plain & (length == 18) | odd.str.contains(_ID_18)).fill_null(False),
        "all_digits": (plain & ~clean.str.ends_with("X") | odd.str.contains(_DIGITS)).fill_null(
            False
        ),
    }


def _body() -> pl.Expr:
    """The first 17 digits of the 18-character layout (upgraded for 15-digit numbers).

    Null unless the text is a digit string of 15 to 18 characters, so its date slice is
    always 8 ASCII digits.
    """
    clean = F("clean")
    layout = F("is18") | F("all_digits") & F("length").is_between(16, 18)
    return pl.when(F("is15")).then(_legacy_body(clean)).when(layout).then(clean.str.slice(0, 17))


def _calendar_date(date_digits: pl.Expr) -> pl.Expr:
    """A real calendar date from 8 ASCII digits, or null (19750229 -> null)."""
    return date_digits.str.to_date("%Y%m%d", strict=False)


def _damage(as_of: datetime.date) -> dict[str, pl.Expr]:
    """Checksum, float precision and date findings (fields from the earlier stages)."""
    check_ok = (F("check") == F("clean").str.slice(17, 1)).fill_null(False)
    too_old = (F("birth") < EARLIEST_BIRTH).fill_null(False)
    future = (F("birth") > as_of).fill_null(False)
    date_ok = F("birth").is_not_null() & ~too_old & ~future
    # Only a guess from the text, so the 15 digits Excel kept must still read as an ID. One in
    # eleven rounded numbers passes the checksum by chance, and trusting it would hand the person
    # a stranger's number, so a passing ...000 is not trusted either (the prefix route still
    # finds its owner by name; about 1 real ID in 1,100 ends in 000).
    excel_rounded = F("is18") & F("clean").str.ends_with("000") & date_ok
    float_lost = (F("float_text") | F("numeric")) & F("all_digits") & F("length").is_between(
        16, 18
    ) | F("scientific") & F("is15") & (F("written") < 15)
    return {
        "check_ok": check_ok,
        "excel_rounded": excel_rounded,
        "precision_lost": excel_rounded | float_lost,
        "too_old": too_old,
        "future": future,
        "date_ok": date_ok,
        "id18": pl.when(F("is15"))
        .then(pl.concat_str([F("body"), F("check")]))
        .otherwise(F("clean")),
    }


def _kind() -> pl.Expr:
    return (
        pl.when(F("clean").is_null())
        .then(pl.lit("missing"))
        .when(F("precision_lost"))
        .then(pl.lit("precision_lost"))
        .when(F("is15") & F("date_ok"))
        .then(pl.lit("upgraded"))
        .when(F("is18") & F("date_ok") & F("check_ok"))
        .then(pl.lit("valid"))
        .when(F("is18") & F("date_ok"))
        .then(pl.lit("bad_check"))
        .otherwise(pl.lit("invalid"))
    )


def _sex(body_number: pl.Expr) -> pl.Expr:
    """GB 11643: the last sequence digit (the 17th) is odd for men and even for women."""
    return pl.when(body_number % 2 == 1).then(pl.lit("男")).otherwise(pl.lit("女"))


def _damage_flags() -> dict[str, pl.Expr]:
    """Flags beyond the text repairs (fields from the earlier stages)."""
    present = F("clean").is_not_null()
    has_layout = F("is15") | F("is18") | F("precision_lost")
    return {
        "flag_float_rendering": F("float_text"),
        "flag_excel_rounded": F("excel_rounded"),
        "flag_numeric_cell": F("numeric") & present,
        "flag_legacy15": F("is15"),
        # A float's last digits are noise, so their checksum says nothing.
        "flag_bad_check": F("is18") & ~F("check_ok") & ~F("precision_lost"),
        "flag_bad_date": has_layout & (F("birth").is_null() | F("too_old")),
        "flag_future_date": has_layout & F("future"),
        "flag_bad_length": present & ~F("length").is_in([15, 18]) & ~F("precision_lost"),
        "flag_non_digit": present & ~F("all_digits") & ~F("is18"),
    }


def _outputs() -> dict[str, pl.Expr]:
    readable = F("id_kind").is_in(READABLE_KINDS)
    # Only what a float really carried: the date needs 14 written digits, prefix15 needs 15.
    lost_dated = (F("id_kind") == "precision_lost") & F("date_ok") & ~F("is15")
    return {
        "id_number": pl.when(F("id_kind").is_in(TRUSTED_KINDS)).then(F("id18")),
        "id_clean": F("clean"),
        # The body's first 15 are the same digits for 18-, 15- and float-damaged numbers.
        "id_prefix15": pl.when(readable | lost_dated & (F("written") >= 15)).then(
            F("body").str.slice(0, 15)
        ),
        "id_birth_date": pl.when(readable | lost_dated & (F("written") >= 14)).then(F("birth")),
        "id_sex": pl.when(readable).then(_sex(F("_number"))),
        "id_flags": pl.lit(_flag_lists()).gather(F("flag_bits")),
    }


@functools.cache
def _flag_lists() -> pl.Series:
    """Row `code` holds the names of the flags whose bit is set in `code`."""
    code = pl.int_range(1 << len(ID_FLAGS), dtype=pl.UInt32)
    names = [
        pl.when(code // (1 << bit) % 2 == 1).then(pl.lit(name)) for bit, name in enumerate(ID_FLAGS)
    ]
    return pl.select(pl.concat_list(names).list.drop_nulls()).to_series()


def _flag_bits() -> pl.Expr:
    """The raised flags packed into one integer, bit i for ID_FLAGS[i].

    Packing bits and looking the list up is ~10x faster than building a list per row
    (pl.concat_list is slow in polars 2.1).
    """
    # A blank cell has nothing to flag.
    present = F("clean").is_not_null()
    return pl.sum_horizontal(
        (present & F(f"flag_{name}")).fill_null(False).cast(pl.UInt32) * (1 << bit)
        for bit, name in enumerate(ID_FLAGS)
    )


# --- the public normaliser ------------------------------------------------------------------


def normalise_id(
    raw: pl.Expr,
    *,
    numeric_cell: pl.Expr | None = None,
    as_of: datetime.date,
) -> pl.Expr:
    """Clean, classify and (where safe) repair an ID column into one struct expression.

    Fields: id_number, id_clean, id_prefix15, id_kind, id_birth_date, id_sex, id_flags
    (see ID_KINDS and ID_FLAGS). `numeric_cell` is true where the spreadsheet cell held a
    number, whose digits beyond the 15th are float noise.
    """
    numeric = pl.lit(False) if numeric_cell is None else numeric_cell.fill_null(False)
    staged = (
        _with_clean_text(pl.struct(raw=raw.cast(pl.String), numeric=numeric))
        .struct.with_fields(**_text_damage(F("odd"), F("nfkc")))
        # Plain numbers are never float renderings, so only the cleaned odd text is parsed.
        .struct.with_fields(**_float_parts(F("stripped")))
        .struct.with_fields(**_expanded_text(F("text"), F("sci"), F("decimal_integer")))
        .struct.with_fields(**_shape(F("clean"), F("plain")))
        .struct.with_fields(body=_body())
        .struct.with_fields(birth=_calendar_date(F("body").str.slice(6, 8)))
    )
    return (
        _with_check(staged, "body", known_digits=True)
        .struct.with_fields(**_damage(as_of))
        .struct.with_fields(id_kind=_kind(), **_damage_flags())
        .struct.with_fields(flag_bits=_flag_bits())
        .struct.with_fields(**_outputs())
        # Plain field selection: struct.eval of computed fields trips a polars 2.1 bug.
        .struct.eval(*(F(name) for name in OUTPUT_FIELDS))
        .name.keep()
    )


# --- masking for reports and logs -----------------------------------------------------------


def _mask_widths(length: int) -> tuple[int, int]:
    """How many leading and trailing characters may stay visible."""
    if length >= 18:
        return 6, 4
    return min(3, length // 3), min(2, length // 4)


def mask_id(expr: pl.Expr) -> pl.Expr:
    """`430102199001011234` -> `430102********1234`; shorter text keeps at most 3 + 2."""
    full = F("length") >= 18
    return (
        pl.struct(text=expr.cast(pl.String))
        .struct.with_fields(length=F("text").str.len_chars().cast(pl.Int64))
        .struct.with_fields(
            head=pl.when(full).then(6).otherwise(pl.min_horizontal(pl.lit(3), F("length") // 3)),
            tail=pl.when(full).then(4).otherwise(pl.min_horizontal(pl.lit(2), F("length") // 4)),
        )
        .struct.with_fields(
            masked=pl.concat_str(
                [
                    F("text").str.slice(0, F("head")),
                    F("text")
                    .str.slice(F("head"), F("length") - F("head") - F("tail"))
                    .str.replace_all(r"(?s).", "*"),
                    F("text").str.slice(F("length") - F("tail")),
                ]
            )
        )
        .struct.field("masked")
        .name.keep()
    )


def mask_id_text(s: str | None) -> str:
    """mask_id for one Python string, for log messages (None -> empty string)."""
    if s is None:
        return ""
    head, tail = _mask_widths(len(s))
    return s[:head] + "*" * (len(s) - head - tail) + s[len(s) - tail :]
