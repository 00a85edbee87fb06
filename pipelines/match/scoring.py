"""Scoring and deciding candidate pairs: one vectorised pass per cascade stage.

score = route weight × name similarity (on stages 3 and 4 a name that reads the same, or lost
                                        one character, counts as 0.9 + 0.1 × its similarity)
        − common-name penalty (term frequency: agreeing on 王伟 says less than on a rare name,
          in proportion to the namesakes expected among people born the same day in the county)
        − 0.02 when the first 15 ID digits differ by a rounding carry (stage 3)
        × factor for each of birth date / sex / place that disagrees

The exact-ID routes are different: the ID is the evidence, and the name only confirms it or, when
clearly different, turns the pair into a conflict for review.

A pair is written off automatically only when its score reaches `auto_match` and none of the
guards holds (see `_automatic_allowed`); otherwise it is reviewed when it reaches `review` (or
shares an ID number, however different the name), and dropped below that. Name-only pairs are
proposed for review only when the name is unique in the registry and points at one roster person.
"""

from __future__ import annotations

import polars as pl

from pipelines.config import Config
from pipelines.match.candidates import CANDIDATE_SCHEMA
from pipelines.normalise.names import WILDCARD, name_similarity

ID_ROUTES = ("exact_id", "upgraded_id")
# Routes whose ID digits single the person out (address code included, so 参保地 adds nothing).
# Routes on which only some of the ID digits survived (stages 3 and 4).
_DAMAGED_ID_ROUTES = ("id_prefix", "near_miss_id")
_ID_DIGIT_ROUTES = (*ID_ROUTES, *_DAMAGED_ID_ROUTES)
_EXPECTED_NAMESAKES_FOR_FULL_PENALTY = 0.05

_ID_EVIDENCE_TEXT = {
    "same_id": "身份证号一致",
    "same_id_after_upgrade": "15位老身份证号升级为18位后一致",
    "prefix15": "身份证号后几位被Excel截断，前15位一致",
    "prefix15_rounded": "身份证号后几位被Excel截断，前15位仅差舍入进位",
    "check_character": "身份证号校验位错误",
    "one_digit": "身份证号有一位数字不同",
    "adjacent_swap": "身份证号相邻两位颠倒",
    "two_slips_in_address": "两边身份证号都有误，仅地址码不同",
    "two_slips": "两边身份证号都有误，出生日期或顺序码也不同",
    "no_usable_id": "身份证号缺失或无效",
    "no_id": "无可核对的身份证号和出生日期",
}


def _name_score(pairs: pl.DataFrame) -> pl.Series:
    """Name similarity; equal keys (most pairs of the exact-ID stage) need no scoring at all."""
    left, right = pairs.get_column("registry_name_key"), pairs.get_column("roster_name_key")
    differ = (left != right).fill_null(True)
    scores = pl.Series("name_score", [1.0] * pairs.height, dtype=pl.Float64)
    if differ.any():
        scored = name_similarity(left.filter(differ), right.filter(differ))
        scores = scores.scatter(differ.arg_true(), pl.Series(scored).fill_nan(0.0))
    return scores


def _common_name_penalty(config: Config) -> pl.Expr:
    """Term-frequency adjustment: how many strangers would share this name in the person's crowd.

    expected namesakes = (roster people born that day, same sex, same county) × (the name's share
    of the registry). Zero for a unique name in a thin crowd; the full penalty once one namesake
    in twenty crowds is expected (王伟 in a big county). Where ID digits already single the person
    out (stages 3 and 4) the name only confirms them, so the full penalty there is smaller.
    """
    m = config.matching
    commonness = (pl.col("expected_namesakes") / _EXPECTED_NAMESAKES_FOR_FULL_PENALTY).clip(0, 1)
    full = pl.when(pl.col("method").is_in(_ID_DIGIT_ROUTES)).then(m.common_name_penalty_with_id)
    return commonness * full.otherwise(m.common_name_penalty)


def _disagreement_factor(column: str, factor: float) -> pl.Expr:
    return pl.when(pl.col(column).eq(False)).then(factor).otherwise(1.0)


def _explained(agrees: str, damaged: str) -> pl.Expr:
    """Agreement, counted as unknown where the near-miss damage itself hit those ID digits: the
    birth date or sex then differs (or cannot be read) only because of the typo."""
    return pl.when(pl.col(damaged)).then(None).otherwise(pl.col(agrees))


def _birth_agrees() -> pl.Expr:
    return _explained("birth_agrees", "birth_digits_damaged")


def _sex_agrees() -> pl.Expr:
    return _explained("sex_agrees", "sex_digit_damaged")


def _score(config: Config) -> pl.Expr:
    m = config.matching
    weight = pl.col("method").replace_strict(m.route_weights.model_dump(), return_dtype=pl.Float64)
    same_key = pl.col("registry_name_key") == pl.col("roster_name_key")
    # Where ID digits agree, a name that reads the same (a homophone, a lost character) confirms
    # them almost as well as the same characters do. Where the whole ID agrees, a clearly
    # different name counts for half. Where only some digits survive (stages 3 and 4), whether
    # the name singles the person out among everyone those digits fit is the common-name
    # penalty's and the guards' question (王? fits every 王 born that day; see
    # _automatic_allowed), and a clearly different name counts as scored.
    reads_the_same = (pl.when(same_key).then(1.0).when(pl.col("name_score") >= m.same_name)).then(
        0.9 + 0.1 * pl.col("name_score")
    )
    name_confirms = reads_the_same.otherwise(0.5 * pl.col("name_score"))
    name_with_digits = (
        pl.when(pl.col("method").is_in(_DAMAGED_ID_ROUTES))
        .then(reads_the_same.otherwise(pl.col("name_score")))
        .otherwise(pl.col("name_score"))
    )
    fuzzy_score = (
        weight * name_with_digits
        - _common_name_penalty(config)
        - pl.when(pl.col("id_evidence") == "prefix15_rounded").then(0.02).otherwise(0.0)
    ) * (
        pl.when(_birth_agrees().eq(False)).then(m.birth_disagrees).otherwise(1.0)
        * pl.when(_sex_agrees().eq(False)).then(m.sex_disagrees).otherwise(1.0)
        * pl.when(pl.col("method").is_in(_ID_DIGIT_ROUTES))
        .then(1.0)
        .otherwise(_disagreement_factor("place_agrees", m.place_disagrees))
    )
    route_score = pl.when(pl.col("method").is_in(ID_ROUTES)).then(name_confirms)
    return route_score.otherwise(fuzzy_score).clip(0, 1).alias("score")


def _lost_characters() -> pl.Expr:
    """How many characters an export lost (WILDCARD) in the two names together."""
    return pl.col("registry_name_key").str.count_matches(WILDCARD, literal=True) + pl.col(
        "roster_name_key"
    ).str.count_matches(WILDCARD, literal=True)


def _namesakes_common_in_data(config: Config) -> pl.Expr:
    """Among people whose IDs tell them apart, namesakes born the same day in the county are too
    common here (int_namesake_rate) for a pair with no ID at all to be written off."""
    return pl.col("observed_namesake_rate") >= config.matching.no_id_max_expected_namesakes


def _near_own_id() -> pl.Expr:
    """Both numbers damaged, but the record is one slip from the person's own number, seen whole
    on another record of theirs (int_match_evidence)."""
    return pl.col("near_own_id").fill_null(False)


def _crowded() -> pl.Expr:
    """Namesakes born the same day in the county, for routes where they could be confused.

    The exact-ID routes never are. Where a damaged ID's surviving digits lead (stages 3 and 4),
    only a namesake whose own ID those digits could equally have come from counts (a rival, see
    int_match_evidence). Elsewhere every other person in the block does.
    """
    return (
        pl.when(pl.col("method").is_in(ID_ROUTES))
        .then(False)
        .when(pl.col("method").is_in(_ID_DIGIT_ROUTES))
        .then(pl.col("rival_ids") > 0)
        .otherwise(pl.col("people_in_block") > 1)
    )


def _automatic_allowed(config: Config) -> pl.Expr:
    """The guards: conditions under which a pair is never written off without a person."""
    m = config.matching
    rests_on_name_alone = pl.col("method") == "name_only"
    # Where only some ID digits survive, a name that merely reads the same (王芳 for 王方) fits
    # any stranger those digits fit whose name reads so too; a name with one lost character
    # (王?欣) fits every stranger whose name fits what is left. That is all but impossible for a
    # rare name or pattern, and not for a common one: on generated data where every name is as
    # common as 张伟, homophone pairs wrote off a stranger about 1 in 200 times. So they are
    # written off only when such strangers are rare enough: the birth-day crowd's expected
    # namesakes (for a lost character over every name the pattern fits: 陈? as all two-character
    # 陈 together) times the share of them whose number the surviving digits could have come from
    # (damaged_id_digits_fit_share), under damaged_id_max_expected_namesakes. Two lost
    # characters, or a name of another length, is not a slip: those always go to review.
    different_name = pl.col("registry_name_key") != pl.col("roster_name_key")
    strangers_the_digits_fit = pl.col("expected_namesakes") * pl.col("method").replace_strict(
        m.damaged_id_digits_fit_share.model_dump(), default=1.0, return_dtype=pl.Float64
    )
    reads_the_same_and_rare = (
        (pl.col("registry_name_key").str.len_chars() == pl.col("roster_name_key").str.len_chars())
        & (_lost_characters() <= 1)
        & (strangers_the_digits_fit < m.damaged_id_max_expected_namesakes)
    )
    damaged_id_without_same_name = (
        pl.col("method").is_in(_DAMAGED_ID_ROUTES) & different_name & ~reads_the_same_and_rare
    )
    # Every field a route compares must agree, not merely be unknown.
    corroborated = (
        pl.when(pl.col("method") == "near_miss_id")
        .then(
            # The birth date must agree, unless the typo is in its digits; then the sex must.
            pl.when(pl.col("birth_digits_damaged"))
            .then(_sex_agrees().eq(True))
            .otherwise(_birth_agrees().eq(True) & _sex_agrees().ne_missing(False))
        )
        .when(pl.col("method") == "no_usable_id")
        .then(
            # With no ID at all, a stranger sharing the name must be all but impossible: both
            # as the name's frequency predicts and as often as namesakes actually occur here.
            (pl.col("expected_namesakes") < m.no_id_max_expected_namesakes)
            & ~_namesakes_common_in_data(config)
            & pl.col("birth_agrees").eq(True)
            & pl.col("sex_agrees").eq(True)
            & pl.col("place_agrees").eq(True)
            & (pl.col("registry_name_key") == pl.col("roster_name_key"))
        )
        .otherwise(True)
    )
    ambiguous = pl.col("owners_for_person") > 1
    # Both numbers damaged (stage 4b, two slips): where the digits also differ in the birth date
    # or the sequence, the record may as well be a namesake's born the same day (at 1M people, a
    # first version that wrote such pairs off took a stranger's record). Only slips in the
    # address code leave no such doubt, or a record one slip from the number the person carries
    # on another record of theirs (then it is stage 4's case, rivals checked the same way).
    two_slips_beyond_address = (pl.col("id_evidence") == "two_slips") & ~_near_own_id()
    return (
        (pl.col("score") >= m.auto_match)
        & (pl.col("name_score") >= m.same_name)
        & ~rests_on_name_alone
        & ~damaged_id_without_same_name
        & ~two_slips_beyond_address
        & corroborated
        & ~_crowded()
        & ~ambiguous
    )


def _reason(config: Config) -> pl.Expr:
    m = config.matching
    same_key = pl.col("registry_name_key") == pl.col("roster_name_key")
    agreement = {
        "birth_agrees": _birth_agrees(),
        "sex_agrees": _sex_agrees(),
        "place_agrees": pl.col("place_agrees"),
    }
    labels = {"birth_agrees": "出生日期", "sex_agrees": "性别", "place_agrees": "地区"}
    parts = [
        pl.col("id_evidence").replace_strict(_ID_EVIDENCE_TEXT, return_dtype=pl.String),
        pl.when(pl.col("id_evidence").str.starts_with("two_slips") & _near_own_id()).then(
            pl.lit("与本人另一条记录上的号码只差一位")
        ),
        pl.when(same_key)
        .then(pl.lit("姓名一致"))
        .when((pl.col("name_score") >= m.same_name) & (_lost_characters() > 0))
        .then(pl.lit("姓名有缺字，其余一致"))
        .when(pl.col("name_score") >= m.same_name)
        .then(pl.lit("姓名相近（同音或繁简）"))
        .otherwise(pl.lit("姓名不同")),
        pl.when(pl.col("full_name_known").fill_null(False)).then(
            pl.lit("本人另一条记录上的全名与此一致")
        ),
        *[
            pl.when(agrees)
            .then(pl.lit(f"{labels[column]}一致"))
            .when(agrees.not_())
            .then(pl.lit(f"{labels[column]}不一致"))
            for column, agrees in agreement.items()
        ],
        pl.when(pl.col("method").is_in(ID_ROUTES) & (pl.col("name_score") < m.same_name)).then(
            pl.lit("同一身份证号姓名明显不同，疑似重号或错号")
        ),
        pl.when(_crowded())
        .then(pl.lit("同县有同名同出生日期的其他人"))
        .when(~pl.col("method").is_in(ID_ROUTES) & (pl.col("people_in_block") > 1))
        .then(pl.lit("同县有同名同出生日期的其他人，但号码只与本人相近")),
        pl.when(pl.col("owners_for_person") > 1).then(pl.lit("对应多个不同参保人")),
        pl.when(~pl.col("method").is_in(ID_ROUTES) & (_common_name_penalty(config) > 0.02)).then(
            pl.concat_str(pl.lit("常见姓名（在册"), pl.col("name_frequency"), pl.lit("人同名）"))
        ),
        pl.when((pl.col("method") == "no_usable_id") & _namesakes_common_in_data(config)).then(
            pl.lit("本批数据中同名同日出生的不同人较常见，无身份证号不能自动销号")
        ),
        pl.when(pl.col("method") == "name_only").then(pl.lit("仅凭姓名不能自动销号")),
    ]
    return pl.concat_str(parts, separator="；", ignore_nulls=True).alias("reason")


def score_pairs(pairs: pl.DataFrame, config: Config) -> pl.DataFrame:
    """Candidate pairs with evidence → scored pairs with a decision (match or review only)."""
    if pairs.is_empty():
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    m = config.matching
    scored = (
        pairs.with_columns(_name_score(pairs))
        .with_columns(_score(config))
        .with_columns(
            # Two roster people proposed for one person in one stage: nobody can tell which. A
            # record under a clearly different name (胡玫 beside 胡华梅, both in the digits' reach)
            # is no contender: it is never written off for this person, and it is proposed for
            # review in its own right.
            owners_for_person=pl.col("record_owner")
            .filter((pl.col("score") >= m.review) & (pl.col("name_score") >= m.same_name))
            .drop_nulls()
            .n_unique()
            .over("identity", "insurance"),
        )
    )
    decided = scored.with_columns(
        decision=pl.when(_automatic_allowed(config))
        .then(pl.lit("match"))
        # The same ID under another name is shown, whatever its score: someone must look.
        # A name alone, shared by several registry people or pointing at several roster people,
        # says nothing: proposing it would only send townships after strangers.
        .when(
            (pl.col("method") == "name_only")
            & ((pl.col("name_frequency") > 1) | (pl.col("owners_for_person") > 1))
        )
        .then(pl.lit("no_match"))
        .when((pl.col("score") >= m.review) | pl.col("method").is_in(ID_ROUTES))
        .then(pl.lit("review"))
        .otherwise(pl.lit("no_match"))
    ).with_columns(_reason(config))
    return decided.filter(pl.col("decision") != "no_match").select(list(CANDIDATE_SCHEMA))
