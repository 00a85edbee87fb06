-- Stage 1 of the matching cascade: registry people and roster records with the same normalised
-- ID number. Names are compared in Python (pipelines/match/exact.py), because a shared ID with a
-- clearly different name is a conflict for review, never an automatic match.

with people as (

    select identity, id_number, name_key
    from int_registry_people
    where id_number is not null

),

records as (

    select record_id, insurance, id_number, name_key
    from stg_roster_records
    where id_number is not null

),

pairs as (

    select
        people.identity,
        records.record_id,
        records.insurance,
        people.name_key as registry_name_key,
        records.name_key as roster_name_key

    from people
    inner join records using (id_number)

)

select * from pairs
