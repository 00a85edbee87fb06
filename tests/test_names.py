"""Name keys and name similarity (pipelines/normalise/names.py)."""

from __future__ import annotations

import math
import re

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.normalise import names
from pipelines.normalise.names import NAME_KEY_SCHEMA, add_name_keys, name_similarity

INVISIBLES = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00a0", "\u3000", " ", "\t"]


def keys_of(*values: str | None) -> pl.DataFrame:
    return add_name_keys(pl.DataFrame({"name": list(values)}, schema={"name": pl.String}))


def key(value: str | None) -> str | None:
    return keys_of(value)["name_key"].item()


def score(left: str | None, right: str | None) -> float:
    return float(name_similarity([left], [right])[0])


# ------------------------------------------------------------------------------------------ keys


def test_columns_and_types_are_added_beside_the_untouched_name():
    out = keys_of("張 三")
    assert out.schema == pl.Schema({"name": pl.String, **NAME_KEY_SCHEMA})
    assert out["name"].item() == "張 三"


def test_full_width_characters_are_nfkc_folded():
    assert key("ＡＬＩ") == "ALI"
    assert key("王　芳") == "王芳"
    assert key("王１") == "王1"


@pytest.mark.parametrize("spaced", ["张 三", " 张三 ", "张\t三", "张\n三", "张  三"])
def test_whitespace_inside_a_name_is_removed(spaced):
    assert key(spaced) == "张三"


@pytest.mark.parametrize("invisible", INVISIBLES)
def test_invisible_characters_are_removed(invisible):
    assert key(f"{invisible}张{invisible}三{invisible}") == "张三"


@pytest.mark.parametrize("dot", ["·", "•", "．", "・", "‧", ".", "-", "‐", "－", ""])
def test_every_minority_name_dot_gives_one_key(dot):
    assert key(f"阿卜杜{dot}热合曼") == "阿卜杜热合曼"


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [("張偉", "张伟"), ("陳", "陈"), ("劉", "刘"), ("張 偉", "张伟"), ("萬俟", "万俟")],
)
def test_traditional_characters_fold_to_simplified(traditional, simplified):
    assert key(traditional) == simplified


def test_folding_is_per_character_and_lossy_as_documented():
    # t2s merges characters that are distinct in names (於/于 are both surnames).
    assert key("於") == key("于") == "于"
    # A phrase table would keep 乾 in 乾隆; keys must not depend on the neighbours.
    assert key("乾隆") == "干隆"


@pytest.mark.parametrize(
    "placeholder", ["?", "？", "□", "■", "〓", "*", "\ufffd", "\ue000", "\uf8ff", "\U000f0000"]
)
def test_placeholders_become_the_wildcard(placeholder):
    out = keys_of(f"王{placeholder}华").row(0, named=True)
    assert out["name_key"] == "王?华"
    assert out["name_has_wildcard"] is True
    assert out["name_pinyin"] == [["wang", "yu"], [], ["hua"]]
    assert out["name_initials"] == "w?h"


def test_ling_is_a_character_not_a_placeholder():
    out = keys_of("李〇").row(0, named=True)
    assert out["name_key"] == "李〇"
    assert out["name_has_wildcard"] is False
    assert "ling" in out["name_pinyin"][1]


@pytest.mark.parametrize(
    ("name", "surname_reading", "other_reading"),
    [
        ("曾伟", "zeng", "ceng"),
        ("单田芳", "shan", "dan"),
        ("解放", "xie", "jie"),
        ("仇英", "qiu", "chou"),
    ],
)
def test_heteronym_surnames_list_the_surname_reading_first(name, surname_reading, other_reading):
    out = keys_of(name).row(0, named=True)
    first = out["name_pinyin"][0]
    assert first[0] == surname_reading
    assert other_reading in first
    assert out["name_initials"][0] == surname_reading[0]


def test_surname_reading_applies_to_the_surname_only():
    # 曾 as a given-name character keeps pypinyin's order.
    assert keys_of("王曾")["name_pinyin"].to_list()[0][1] == ["ceng", "zeng"]


def test_compound_surname_readings():
    assert keys_of("万俟雪")["name_pinyin"].to_list()[0][:2] == [["mo", "wan"], ["qi", "si"]]


def test_non_han_characters_read_as_themselves():
    out = keys_of("Ali2").row(0, named=True)
    assert out["name_pinyin"] == [["a"], ["l"], ["i"], ["2"]]
    assert out["name_initials"] == "ali2"


@pytest.mark.parametrize("empty", [None, "", "  ", "·", "\u200b"])
def test_missing_names_give_null_keys(empty):
    out = keys_of(empty).row(0, named=True)
    assert {column: out[column] for column in NAME_KEY_SCHEMA} == dict.fromkeys(NAME_KEY_SCHEMA)


@pytest.mark.parametrize("lazy", [False, True])
def test_distinct_name_join_keeps_row_order_and_count(lazy):
    values = ["张三", None, "張三", "李四", "张三", "", "王?华", "李四", None, "张 三"] * 50
    frame = pl.DataFrame({"row": range(len(values)), "name": values})
    out = add_name_keys(frame.lazy() if lazy else frame, "name")
    out = out.collect() if lazy else out
    assert out.height == frame.height
    assert out["row"].to_list() == list(range(len(values)))
    assert out["name"].to_list() == values
    expected = {"张三": "张三", "張三": "张三", "张 三": "张三", "李四": "李四", "王?华": "王?华"}
    assert out["name_key"].to_list() == [expected.get(v) if v else None for v in values]


def test_custom_column_and_rerun_replace_existing_keys():
    frame = pl.DataFrame({"姓名": ["張三"]})
    once = add_name_keys(frame, name_col="姓名")
    twice = add_name_keys(once, name_col="姓名")
    assert twice.columns == once.columns
    assert twice.equals(once)


# ------------------------------------------------------------------------------------ properties

NAME_CHARACTERS = st.one_of(
    st.sampled_from(list("王张李刘陈曾单張陳劉偉於乾阿卜杜热合曼芳方〇韡韦华")),
    st.sampled_from(["·", "•", "．", "・", "‧", ".", "-", "?", "？", "□", "\ufffd", "\ue000"]),
    st.sampled_from(["A", "b", "Ｚ", "1", "e\u0301", "\u0301", "ﾃﾞ", "㈠", "½"]),
    st.characters(codec="utf-8"),
)
NAMES = st.lists(NAME_CHARACTERS, max_size=8).map("".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(NAMES, min_size=1, max_size=30))
def test_name_key_is_idempotent(values):
    once = keys_of(*values)["name_key"]
    assert keys_of(*once.to_list())["name_key"].to_list() == once.to_list()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_name_key_ignores_inserted_spaces_and_invisibles(data):
    values = data.draw(st.lists(NAMES, min_size=1, max_size=20))
    noisy = []
    for value in values:
        for _ in range(data.draw(st.integers(0, 3))):
            at = data.draw(st.integers(0, len(value)))
            value = value[:at] + data.draw(st.sampled_from(INVISIBLES)) + value[at:]
        noisy.append(value)
    assert keys_of(*noisy)["name_key"].to_list() == keys_of(*values)["name_key"].to_list()


# ------------------------------------------------------------------------------------ similarity


def test_identical_names_score_one():
    assert score("张三", "张三") == 1.0
    assert score("張 三", "张三") == 1.0  # stored names are keyed first


def test_homophone_given_name_scores_high_where_jaro_winkler_does_not():
    assert score("王芳", "王方") >= 0.9


def test_different_surname_scores_low():
    assert score("王芳", "李芳") < 0.7


def test_archaic_heteronyms_do_not_make_homophones():
    # pypinyin lists yu for 王 and wang for 方; nobody reads 王芳 as 余芳.
    assert score("王芳", "余芳") < 0.7
    assert score("方芳", "王芳") < 0.7


def test_surname_reading_makes_a_homophone():
    assert score("曾伟", "增伟") >= 0.9


def test_transliteration_homophones_score_high():
    assert score("阿卜杜热合曼", "阿布都热合曼") >= 0.9


def test_wildcard_matches_any_character():
    assert score("王?华", "王晓华") >= 0.9
    assert score("王□华", "王晓华") == score("王?华", "王晓华")


def test_pinyin_typed_for_a_rare_character_matches_it():
    assert score("王wei华", "王韡华") >= 0.9


def test_split_rare_character_scores_moderately():
    split = score("王韡", "王韦华")
    assert 0.7 <= split < 0.9
    assert split > score("张三", "张三丰")  # a plain insertion


def test_transposed_minority_name_scores_high_but_not_one():
    assert 0.85 <= score("阿卜杜·热合曼", "热合曼·阿卜杜") < 1.0
    assert score("李明", "明李") < 0.7  # not for two-character Han names


def test_missing_names_score_nan():
    scores = name_similarity([None, "张三", "  ", None], ["张三", None, "张三", None])
    assert np.isnan(scores).all()


def test_misaligned_inputs_are_rejected():
    with pytest.raises(ValueError, match="differ in length"):
        name_similarity(["张三"], [])


def test_accepts_series_and_returns_float_array():
    scores = name_similarity(pl.Series(["王芳", "张三"]), pl.Series(["王方", "李四"]))
    assert scores.dtype == np.float64
    assert scores.shape == (2,)


def reference_similarity(left_key: str, right_key: str) -> float:
    """The documented rule, pair by pair; names avoid the surname table so that no unit needs
    a surname reading."""
    a, b = (
        [names._unit(unit, "") for unit in re.findall(r"[A-Za-z]+|.", k, re.DOTALL)]
        for k in (left_key, right_key)
    )

    def cost(x, y):
        if x[0] == y[0]:
            return 0.0
        if names.WILDCARD in (x[0], y[0]):
            return 0.2
        return 0.1 if set(x[1]) & set(y[1]) and (x[2] or y[2]) else 1.0

    def alike(x, y):
        return x[0] != y[0] and bool(set(x[1]) & set(y[1])) and (x[2] or y[2])

    n, m = len(a), len(b)
    if n == m:
        shifts = range(n) if n >= 4 else range(1)
        total = min(
            sum(cost(a[j], b[(j + s) % n]) for j in range(n)) + (0.5 if s else 0) for s in shifts
        )
    else:
        d = [[math.inf] * (m + 1) for _ in range(n + 1)]
        for i in range(n + 1):
            for j in range(m + 1):
                if i == j == 0:
                    d[i][j] = 0.0
                    continue
                options = []
                if i:
                    options.append(d[i - 1][j] + 1)
                if j:
                    options.append(d[i][j - 1] + 1)
                if i and j:
                    options.append(d[i - 1][j - 1] + cost(a[i - 1], b[j - 1]))
                if (
                    i
                    and j >= 2
                    and a[i - 1][2]
                    and (alike(a[i - 1], b[j - 2]) or alike(a[i - 1], b[j - 1]))
                ):
                    options.append(d[i - 1][j - 2] + 0.6)
                if (
                    j
                    and i >= 2
                    and b[j - 1][2]
                    and (alike(b[j - 1], a[i - 2]) or alike(b[j - 1], a[i - 1]))
                ):
                    options.append(d[i - 2][j - 1] + 0.6)
                d[i][j] = min(options)
        total = d[n][m]
    return max(0.0, 1 - total / max(n, m))


# No surname-table characters: the reference gives no unit a surname reading.
SIMILARITY_NAMES = st.text(alphabet="王李芳方余卜布杜都韡韦华伟玮?□wei", min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(SIMILARITY_NAMES, SIMILARITY_NAMES), min_size=1, max_size=40))
def test_vectorised_similarity_matches_the_documented_rule(pairs):
    left, right = (list(side) for side in zip(*pairs, strict=True))
    scores = name_similarity(left, right)
    left_keys, right_keys = (keys_of(*side)["name_key"].to_list() for side in (left, right))
    expected = [
        reference_similarity(a, b) if a and b else math.nan
        for a, b in zip(left_keys, right_keys, strict=True)
    ]
    np.testing.assert_allclose(scores, expected, atol=1e-9)
