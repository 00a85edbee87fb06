-- How many roster people share each birth date, sex and county: the crowd a stranger with the
-- same name would have to come from. Used for the common-name (term-frequency) adjustment in
-- pipelines/match/scoring.py: expected namesakes = this count × the name's share of the registry.

select
    birth_date,
    sex,
    coalesce(region_stem, id_place_stem) as place_stem,
    count(distinct coalesce(id_number, first17, record_id::varchar)) as people_born_that_day

from int_roster_records
where birth_date is not null
group by all
