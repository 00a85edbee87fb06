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

-- Whether two 3-digit sequence codes are one slip apart at most: one digit differs, or two
-- adjacent digits are swapped.
create or replace temp macro sequence_near_miss(a, b) as (
    (a // 100 = b // 100)::int + (a // 10 % 10 = b // 10 % 10)::int + (a % 10 = b % 10)::int >= 2
    or (a // 100 = b // 10 % 10 and a // 10 % 10 = b // 100 and a % 10 = b % 10)
    or (a // 100 = b // 100 and a // 10 % 10 = b % 10 and a % 10 = b // 10 % 10)
);

-- The 17 digits with the two at `position` and `position + 1` swapped: a swap across a segment
-- boundary (6|7, 12|13, 14|15) spoils two segments, so stage 4 undoes it instead.
create or replace temp macro swapped_at(first17, position) as (
    left(first17, position - 1) || substr(first17, position + 1, 1)
    || substr(first17, position, 1) || substr(first17, position + 2)
)::bigint;

-- Whether two 17-digit strings differ in the birth digits (7-14) or the sex digit (17): where a
-- damaged number's slip lies, a birth date or sex that differs only because of it is no evidence
-- against the pair (stages 4 and 4b).
create or replace temp macro birth_digits_differ(first17, other17)
as substr(first17, 7, 8) <> substr(other17, 7, 8);

create or replace temp macro sex_digit_differs(first17, other17)
as substr(first17, 17, 1) <> substr(other17, 17, 1);
