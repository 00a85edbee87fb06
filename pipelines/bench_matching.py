"""Matching quality and speed against the generator's ground truth (benchmarks and tests only).

The matcher never sees the truth: it runs on the input folder alone, and only afterwards are its
tables joined to `truth/` by the provenance every row keeps (file, sheet, row).

Measures, per insurance, for the cascade and for the exact-ID join an officer's VLOOKUP gives:
  recall           true enrolments found, with a record that really is the person's
  false write-offs people marked enrolled who are not, or matched to someone else's record
  review rate      people left for a person to decide
and recall per damage type.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.config import Config
from pipelines.match import MatchTimings, Scorer
from pipelines.match.scoring import score_pairs
from pipelines.nightly import reconcile
from pipelines.stage import reset_work_dir, stage_inputs
from pipelines.warehouse import open_work_db

ACTIVE = ("enrolled", "suspended")


@dataclass
class MatchingRun:
    con: duckdb.DuckDBPyConnection
    seconds: dict[str, float]
    timings: MatchTimings


def run_matching(
    input_dir: Path, config: Config, as_of: dt.date, work_dir: Path, score: Scorer = score_pairs
) -> MatchingRun:
    """Stage, build people, match and derive coverage, timing each step; nothing is committed."""
    reset_work_dir(work_dir)
    started = time.perf_counter()
    staged = stage_inputs(input_dir, config, as_of, work_dir)
    staging_seconds = time.perf_counter() - started
    con = open_work_db(config, work_dir)
    # The benchmark reads the cascade's intermediates (people, records) to judge it.
    done = reconcile(con, staged, config, as_of, score=score, keep_cascade_tables=True)
    return MatchingRun(con, {"stage": staging_seconds, **done.seconds}, done.match_timings)


def _owners(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> None:
    """Map each registry identity and roster record to the truth's person_uid."""
    con.execute(
        """
        create or replace temp table bench_identity_owner as
        select identity, mode(truth.person_uid) as person_uid
        from int_registry_identity as rows
        inner join read_parquet($registry) as truth
            on truth.file = rows.file and truth.row = rows._row
            and truth.sheet is not distinct from rows._sheet
        group by identity
        """,
        {"registry": str(truth_dir / "registry_rows.parquet")},
    ).fetchall()
    roster_truth = truth_dir / "roster_rows.parquet"
    # Hard cases (namesakes, re-issued IDs) are labelled by the scale generator only.
    has_hard_cases = "hard_case" in pl.read_parquet_schema(roster_truth)
    labels = "list_concat(truth.damage, truth.hard_case)" if has_hard_cases else "truth.damage"
    con.execute(
        f"""
        create or replace temp table bench_record_owner as
        select records.record_id, records.insurance, records.status_group,
            truth.person_uid, {labels} as damage
        from stg_roster_records as records
        inner join read_parquet($roster) as truth
            on truth.file = records.file and truth.row = records._row
            and truth.sheet is not distinct from records._sheet
        """,
        {"roster": str(roster_truth)},
    ).fetchall()


_OUTCOMES = """
with people as (
    select o.identity, o.person_uid, i.insurance
    from bench_identity_owner as o
    cross join (select unnest(['pension', 'medical']) as insurance) as i
),
truly_enrolled as (
    select distinct person_uid, insurance
    from bench_record_owner
    where person_uid is not null and status_group in ('enrolled', 'suspended')
),
matched as (
    select pairs.identity, records.insurance,
        bool_or(records.person_uid is not distinct from owners.person_uid) as right_record,
        bool_or(records.person_uid is distinct from owners.person_uid) as wrong_record
    from {pairs} as pairs
    inner join bench_record_owner as records using (record_id)
    inner join bench_identity_owner as owners using (identity)
    where records.status_group in ('enrolled', 'suspended')
    group by all
),
reviewed as (
    select distinct identity, insurance from {reviews}
),
per_identity as (
    select
        people.insurance,
        people.person_uid,
        -- Whether any of the person's registry rows carries ID digits at all (a blank ID in
        -- every list leaves only name, birth date, sex and county to match on).
        registry.id_number is not null or registry.first17 is not null
            or registry.prefix15_number is not null as registry_has_id,
        truly_enrolled.person_uid is not null as truly_enrolled,
        matched.identity is not null as marked_enrolled,
        coalesce(matched.right_record, false) as right_record,
        coalesce(matched.wrong_record, false) or (matched.identity is not null
            and truly_enrolled.person_uid is null) as false_write_off,
        reviewed.identity is not null as reviewed
    from people
    inner join int_match_people as registry using (identity)
    left join truly_enrolled using (person_uid, insurance)
    left join matched using (identity, insurance)
    left join reviewed using (identity, insurance)
)
-- One truth person may be two registry identities (a split the registry merge missed); they are
-- one person here: found if any identity found them.
select
    insurance,
    person_uid,
    bool_or(registry_has_id) as registry_has_id,
    bool_or(truly_enrolled) as truly_enrolled,
    bool_or(marked_enrolled) as marked_enrolled,
    bool_or(right_record) as right_record,
    bool_or(false_write_off) as false_write_off,
    bool_or(reviewed) and not bool_or(marked_enrolled) as in_review
from per_identity
group by insurance, person_uid
"""

_CASCADE_PAIRS = "(select * from int_match_decisions where decision = 'match')"
_CASCADE_REVIEWS = "(select * from rpt_person_coverage where status = 'review')"
# What an officer's VLOOKUP on the (normalised) ID gives: any record with the same number.
_EXACT_PAIRS = """(select people.identity, records.record_id
    from int_match_people as people
    inner join int_match_records as records using (id_number))"""
_NO_REVIEWS = "(select null::varchar as identity, null::varchar as insurance where false)"


def outcomes(con: duckdb.DuckDBPyConnection, truth_dir: Path, matcher: str) -> pl.DataFrame:
    """One row per registry person per insurance: truth, outcome, right or wrong record."""
    _owners(con, truth_dir)
    pairs, reviews = (
        (_CASCADE_PAIRS, _CASCADE_REVIEWS) if matcher == "cascade" else (_EXACT_PAIRS, _NO_REVIEWS)
    )
    return con.sql(_OUTCOMES.format(pairs=pairs, reviews=reviews)).pl()


def summarise(frame: pl.DataFrame, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Recall, false write-offs and review rate per insurance (and per `by` columns)."""
    return (
        frame.group_by("insurance", *by)
        .agg(
            people=pl.len(),
            truly_enrolled=pl.col("truly_enrolled").sum(),
            found=(pl.col("truly_enrolled") & pl.col("right_record")).sum(),
            false_write_offs=pl.col("false_write_off").sum(),
            in_review=pl.col("in_review").sum(),
        )
        .with_columns(
            recall=pl.col("found") / pl.col("truly_enrolled"),
            review_rate=pl.col("in_review") / pl.col("people"),
        )
        .sort("insurance", *by)
    )


def recall_by_damage(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """Recall among true enrolments whose active records carry each damage or hard-case label."""
    damage = (
        con.sql(
            "select person_uid, insurance, unnest(damage) as damage from bench_record_owner "
            "where person_uid is not null and status_group in ('enrolled', 'suspended')"
        )
        .pl()
        .unique()
    )
    enrolled = frame.filter(pl.col("truly_enrolled"))
    return (
        enrolled.join(damage, on=["person_uid", "insurance"])
        .group_by("damage")
        .agg(cases=pl.len(), found=pl.col("right_record").sum())
        .with_columns(recall=pl.col("found") / pl.col("cases"))
        .sort("damage")
    )


def measure(input_dir: Path, config: Config, work_dir: Path) -> dict[str, object]:
    """Run the matcher on one generated folder and score it against its truth (JSON-ready)."""
    run = run_matching(input_dir, config, dt.date.today(), work_dir)
    truth_dir = input_dir / "truth"
    result: dict[str, object] = {
        "registry_people": run.con.sql("select count(*) from int_registry_people").fetchall()[0][0],
        "roster_records": run.con.sql("select count(*) from stg_roster_records").fetchall()[0][0],
        "seconds": run.seconds,
        "stage_seconds": run.timings.seconds,
    }
    cascade = outcomes(run.con, truth_dir, "cascade")
    result["cascade"] = summarise(cascade).to_dicts()
    result["cascade_by_registry_id"] = summarise(cascade, ("registry_has_id",)).to_dicts()
    result["exact"] = summarise(outcomes(run.con, truth_dir, "exact")).to_dicts()
    result["by_damage"] = recall_by_damage(run.con, cascade).to_dicts()
    exact_by_damage = recall_by_damage(run.con, outcomes(run.con, truth_dir, "exact"))
    result["exact_by_damage"] = exact_by_damage.to_dicts()
    run.con.close()
    return result
