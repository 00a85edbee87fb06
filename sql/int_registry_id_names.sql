-- IDs that carry more than one name key in the registry. Python scores these names against each
-- other (pipelines/people.py): the same ID with a clearly different name is two people sharing a
-- re-issued or mistyped number, a conflict to report, never a merge.

with rows_with_id as (

    select id_number, name_key, count(*) as row_count
    from stg_registry_rows
    where id_number is not null
    group by id_number, name_key

),

ids_with_several_names as (

    select id_number
    from rows_with_id
    group by id_number
    having count(*) > 1

)

select rows_with_id.*
from rows_with_id
inner join ids_with_several_names using (id_number)
order by id_number, row_count desc, name_key
