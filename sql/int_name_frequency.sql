-- How many registry people carry each name key, and what share of people that is: agreeing on
-- 王伟 is weaker evidence than agreeing on a rare name (term-frequency adjustment, used by
-- pipelines/match/scoring.py). A registry smaller than 10,000 people says little about how common
-- a name is, so shares are taken as if out of at least 10,000.

select
    name_key,
    count(*) as name_frequency,
    count(*) / greatest(10000, (select count(*) from int_match_people)) as name_share

from int_match_people
where name_key is not null
group by name_key
