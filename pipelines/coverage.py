"""Coverage rules: who must be enrolled in what, and whether they are. The rules live in
sql/int_person_coverage.sql; their parameters come from the configuration file."""

from __future__ import annotations

import duckdb

from pipelines.config import Config
from pipelines.warehouse import define_view, materialise


def coverage_parameters(config: Config) -> dict[str, object]:
    return {
        "pension_min_age": config.ages.pension_min_age,
        "benefit_age": config.ages.pension_benefit_age,
        "pension_exempt_states": config.exemptions.person_state,
        "student_reason": config.exemptions.student,
        "medical_excluded_states": config.exemptions.medical_excluded_states,
        "receiving_statuses": config.statuses.receiving,
    }


def compute_coverage(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Create rpt_person_coverage: one row per registry person per insurance, a view joining
    each outcome (int_person_coverage) to the person (int_registry_people).

    Ages were fixed at the as-of date when the people were built (int_registry_people).
    """
    materialise(con, "int_person_coverage", **coverage_parameters(config))
    define_view(con, "rpt_person_coverage")
