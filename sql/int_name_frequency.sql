-- How many registry people carry each name key: agreeing on 王伟 is weaker evidence than
-- agreeing on a rare name (term-frequency adjustment, used by pipelines/match/scoring.py).

select name_key, count(*) as name_frequency
from int_match_people
where name_key is not null
group by name_key
