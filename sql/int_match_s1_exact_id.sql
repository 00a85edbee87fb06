-- Stage 1: the same trusted, normalised ID number on both sides. Names are still compared (in
-- pipelines/match/scoring.py): the same ID with a clearly different name is a re-issued or
-- mistyped number, a conflict for review, never an automatic match.

with people as (

    select * from int_match_people
    where id_number is not null and id_kind <> 'upgraded'

),

records as (

    select * from int_match_records
    anti join int_match_claimed_records using (record_id)
    where id_number is not null and id_kind <> 'upgraded'

),

pairs as (

    select
        people.identity,
        records.record_id,
        records.insurance,
        'exact_id' as method,
        'same_id' as id_evidence,
        false as birth_digits_damaged,
        false as sex_digit_damaged

    from people
    inner join records using (id_number)
    semi join int_match_open_people as open
        on open.identity = people.identity and open.insurance = records.insurance

)

select * from pairs
