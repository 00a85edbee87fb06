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
from pipelines.normalise.names import (
    NAME_KEY_SCHEMA,
    add_name_key,
    add_name_keys,
    name_similarity,
)

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


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), NAMES), min_size=1, max_size=30))
def test_the_key_staging_adds_alone_is_the_full_keys_name_key(values):
    frame = pl.DataFrame(
        {"row": range(len(values)), "name": values}, schema_overrides={"name": pl.String}
    )
    alone = add_name_key(frame.lazy(), "name").collect()
    assert alone.columns == ["row", "name", "name_key"]
    assert alone["name_key"].to_list() == keys_of(*values)["name_key"].to_list()


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


def test_sounds_hunan_speech_merges_read_alike():
    # n/l, in/ing and en/eng are one sound to a Xiang-speaking clerk.
    assert score("梁红彬", "梁红兵") >= 0.9
    assert score("宁芳", "林芳") >= 0.9
    assert score("陈振", "陈正") >= 0.9
    # Other near-sounds stay apart: s/sh would make 张三 and 张山 one name.
    assert score("张三", "张山") < 0.7


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
    """The documented rule, pair by pair in plain Python."""

    def units(key):
        # (text, readings, is Han); a unit without readings reads as itself.
        surname = next((key[:k] for k in (2, 1) if key[:k] in names._SURNAME_READINGS), "")
        surname_readings = names._SURNAME_READINGS.get(surname, ())
        found = [
            names._unit(unit, surname_readings[i] if i < len(surname_readings) else "")
            for i, unit in enumerate(re.findall(r"[A-Za-z]+|.", key, re.DOTALL))
        ]
        return [(text, readings or (("itself", text),), han) for text, readings, han in found]

    def levenshtein(x, y):
        row = list(range(len(y) + 1))
        for i, p in enumerate(x, 1):
            previous, row[0] = row[0], i
            for j, q in enumerate(y, 1):
                previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (p != q))
        return row[-1]

    def cost(a, b):
        if len(a) == len(b):
            return sum(
                0.1 * (text_a != text_b) + 0.9 * (not set(readings_a) & set(readings_b))
                for (text_a, readings_a, _), (text_b, readings_b, _) in zip(a, b, strict=True)
            )

        def read(x, y):
            heard = {r for _, readings, _ in y for r in readings}
            return [min(set(readings) & heard, default=readings[0]) for _, readings, _ in x]

        d_units = levenshtein([t for t, _, _ in a], [t for t, _, _ in b])
        return 0.1 * d_units + 0.9 * levenshtein(read(a, b), read(b, a))

    def filled(a, b, shift):
        a, b, charge = list(a), list(b), 0.0
        for p in range(len(a)):
            q = p + shift
            if 0 <= q < len(b) and (a[p][0] == "?") != (b[q][0] == "?"):
                if a[p][0] == "?":
                    a[p] = b[q]
                else:
                    b[q] = a[p]
                charge += 0.2
        return cost(a, b) + charge

    a, b = units(left_key), units(right_key)
    n, m = len(a), len(b)
    costs = [cost(a, b)]
    if any(text == "?" for text, _, _ in a + b):
        costs += [filled(a, b, 0), filled(a, b, m - n)]
    if n == m >= 4:
        costs += [0.5 + filled(a, b[s:] + b[:s], 0) for s in range(1, n)]
    if abs(n - m) == 1:
        short, long = sorted([a, b], key=len)
        for k, (text, readings, han) in enumerate(short):
            for half_text, half_readings, _ in long[k : k + 2]:
                if han and text != half_text and set(readings) & set(half_readings):
                    rest = filled(short[:k] + short[k + 1 :], long[:k] + long[k + 2 :], 0)
                    costs.append(0.6 + rest)
    return max(0.0, 1 - min(costs) / max(n, m))


# Heteronyms (卜 bo/bu, 都 dou/du, 曾 ceng/zeng), homophones, surname readings (曾, 单, 万俟),
# wildcards and pinyin runs.
SIMILARITY_NAMES = st.text(
    alphabet="王李芳方余卜布杜都韡韦华伟玮曾增单万俟?□wei", min_size=1, max_size=6
)


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


def test_large_batch_matches_the_documented_rule():
    rng = np.random.default_rng(7)
    alphabet = [*"王李芳方余卜布杜都韡韦华伟玮曾增单万俟?□", "wei", "·"]
    drawn = {"".join(rng.choice(alphabet, size=rng.integers(1, 8))) for _ in range(400)}
    pool = [*sorted(drawn | {"阿卜杜热合曼", "热合曼·阿卜杜", "阿布都热合曼", "  "}), None]
    picks = rng.integers(0, len(pool), size=(200_000, 2))
    left, right = [pool[i] for i in picks[:, 0]], [pool[i] for i in picks[:, 1]]
    scores = name_similarity(left, right)
    assert scores.shape == (200_000,)
    # Each unordered key pair is scored once, which relies on the cost being symmetric.
    np.testing.assert_array_equal(name_similarity(right[:20_000], left[:20_000]), scores[:20_000])

    keys = dict(zip(pool, keys_of(*pool)["name_key"].to_list(), strict=True))
    for i in rng.choice(len(left), size=300, replace=False):
        a, b = keys[left[i]], keys[right[i]]
        expected = reference_similarity(a, b) if a and b else math.nan
        np.testing.assert_allclose(scores[i], expected, atol=1e-9, err_msg=f"{a} / {b}")
