-- Possible matches for a person to confirm or reject (待核实), one row per pair, in the order a
-- township works through them. Each row carries a check code: a hash of the pair and its
-- township under the ledger's secret, so that an edited pair, or a row copied from another
-- township's workbook, is refused when the decisions come back (pipelines/review.py).
-- Parameters: $secret, $mask_ids. Needs the macros in reporting_macros.sql.

with pairs as (

    select * from int_match_decisions
    where decision = 'review'

),

readable as (

    select
        people.county,
        people.township,
        people.village,
        people.name,
        shown_id(people.id_number, $mask_ids) as id_number,
        people.birth_date,
        people.person_key,
        pairs.insurance,
        records.roster_person_no,
        records.name as roster_name,
        shown_id(records.id_clean, $mask_ids) as roster_id,
        records.id_birth_date as roster_birth_date,
        records.region as roster_region,
        records.scheme,
        records.status as roster_status,
        pairs.method,
        round(pairs.score, 3) as score,
        pairs.reason,
        review_code($secret, people.county, people.township, people.person_key,
            pairs.insurance, records.roster_person_no) as check_code

    from pairs
    inner join int_registry_people as people using (identity)
    inner join stg_roster_records as records using (record_id)

)

select * from readable
order by county, township, village, person_key, insurance, roster_person_no
