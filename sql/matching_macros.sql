-- Macros the matching stages share, created on the run's connection when the matcher prepares
-- (pipelines/match/__init__.py).

-- Stage 4 cuts the first 17 digits of an ID (as a number: they fit a bigint, and numbers are
-- cheaper than strings to compute and join for millions of records) into four segments:
-- address (6) | year and month (6) | day (2) | sequence (3). Each key leaves one segment out.
create or replace temp macro without_address(digits) as digits % 100000000000;

create or replace temp macro without_month(digits)
as digits // 100000000000 * 100000 + digits % 100000;

create or replace temp macro without_day(digits) as digits // 100000 * 1000 + digits % 1000;

create or replace temp macro without_sequence(digits) as digits // 1000;

-- The 17 digits with the two at `position` and `position + 1` swapped: a swap across a segment
-- boundary (6|7, 12|13, 14|15) spoils two segments, so stage 4 undoes it instead.
create or replace temp macro swapped_at(first17, position) as (
    left(first17, position - 1) || substr(first17, position + 1, 1)
    || substr(first17, position, 1) || substr(first17, position + 2)
)::bigint;
