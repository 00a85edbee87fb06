-- How much of the registry a name with one lost character fits: 王?欣 (a placeholder where an
-- export could not write the character) fits 王雨欣, 王心欣, 王馨欣 and every other registry name
-- that reads 王, anything, 欣. Its share is the sum of theirs (int_name_frequency), so a pattern
-- weighs as the common-name adjustment needs: 陈? fits every two-character 陈 and is as common
-- as all of them together; 王?欣 is as rare as the few names it fits.
--
-- Every registry name is masked at each of its positions in turn; the patterns an input actually
-- carries are looked up here by equality (int_match_evidence). '?' is
-- pipelines.normalise.names.WILDCARD.

with whole_names as (

    select name_key, name_share
    from int_name_frequency
    where not contains(name_key, '?')

),

masked as (

    select
        left(name_key, position - 1) || '?' || substr(name_key, position + 1) as pattern,
        name_share

    from (
        select name_key, name_share, unnest(range(1, length(name_key) + 1)) as position
        from whole_names
    )

),

patterns as (

    select pattern, count(*) as names_fitting, sum(name_share) as pattern_share
    from masked
    group by pattern

)

select * from patterns
