-- Counties where the ledger holds people still in the registry, of whom tonight's registry has
-- none. A county does not lose every registered poor person overnight: its file was left out or
-- could not be found, and committing would record all its people as 移出 (pipelines/nightly.py
-- refuses the run unless the officer insists).

with tonight as (

    select distinct county
    from int_registry_people

)

select county, count(distinct person_key) as people
from person_state
where removed_on is null
    and county not in (select county from tonight)
group by county
order by county
