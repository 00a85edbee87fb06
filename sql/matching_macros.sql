-- Macros the matching stages share, created on the run's connection when the matcher prepares
-- (pipelines/match/__init__.py), and before the registry merge, which compares damaged numbers
-- the same way (pipelines/people.py, int_registry_identity).

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

-- Whether two 17-digit strings are one slip apart: a digit mistyped or two adjacent digits
-- swapped (equal strings count too: a wrong check character leaves the 17 as they were).
create or replace temp macro one_slip_apart(a17, b17)
as hamming(a17, b17) <= 1 or damerau_levenshtein(a17, b17) = 1;

-- Whether `id_number` could have become a damaged record's number: one slip in its first 17
-- digits, or, for a float, the same first 15.
create or replace temp macro record_could_come_from(id_number, record_first17, record_is_float)
as if(
    record_is_float,
    left(id_number, 15) = left(record_first17, 15),
    one_slip_apart(left(id_number, 17), record_first17)
);

-- Whether `id_number` could have become the damaged number a pair rests on, by the slip its
-- route tests: one slip in the first 17 digits on stage 4; on stage 3 the same first 15 digits,
-- or −1 / +1 where both numbers show a carry could have happened, as stage 3 asks: the float's
-- tail just above a boundary (0xx) and digits 16-17 of `id_number` high enough to round up
-- (>= 50), or a tail just below one (9xx) and digits 16-17 under 10. A number that could is a
-- rival's: the damaged one may as well be a copy of it (int_match_evidence). Without the second
-- half, at 100,000 generated people a namesake whose sequence was one lower (…287 239 for a
-- float …288 000) held 7 people's own records in review.
create or replace temp macro could_have_become(id_number, method, first17, prefix15, float_tail)
as case method
    when 'near_miss_id' then one_slip_apart(left(id_number, 17), first17)
    else left(id_number, 15)::bigint - prefix15 in (
        0,
        if(float_tail < 100 and substr(id_number, 16, 2)::integer >= 50, -1, 0),
        if(float_tail >= 900 and substr(id_number, 16, 2)::integer < 10, 1, 0)
    )
end;
