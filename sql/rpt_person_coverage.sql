-- Coverage per registry person per insurance with the person's own columns: the rows behind
-- the contract's person_coverage view. A view, so a province's people are not held twice (once
-- per insurance) beside int_registry_people; each reader pays one join and reads only the
-- columns it names.

select
    people.*,
    coverage.* exclude (identity)

from int_person_coverage as coverage
inner join int_registry_people as people using (identity)
