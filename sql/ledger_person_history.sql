-- One person's trail in the ledger, oldest first: every event with its evidence.
-- Parameters: $id_number (normalised 18 characters) or $person_key; either may be null.

with person as (

    select distinct person_key, id_number, name, county, township, village
    from person_state
    where id_number = $id_number or person_key = $person_key

)

select
    person.person_key,
    person.id_number,
    person.name,
    person.county,
    person.township,
    person.village,
    events.event_id,
    events.as_of,
    events.insurance,
    events.event_type,
    events.status_before,
    events.status_after,
    events.roster_person_no,
    events.match_method,
    events.match_score,
    events.match_reason,
    events.exempt_reason,
    events.source_rows

from person
inner join events using (person_key)
order by events.as_of, events.event_id
