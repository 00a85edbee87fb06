-- Coverage per registry person per insurance as of the run date: the outcome only (status,
-- exemption, match, flags). rpt_person_coverage adds the person's own columns back, as a view:
-- written out once per insurance here they were most of a province's memory. Parameters:
-- $as_of, $pension_min_age, $benefit_age, $pension_exempt_states, $student_reason,
-- $medical_excluded_states, $receiving_statuses.

with insurances as (

    select unnest(['pension', 'medical']) as insurance

),

matched_records as (

    -- Only decided matches count, and only records whose status counts as enrolled.
    select
        decisions.identity,
        decisions.insurance,
        decisions.method,
        decisions.score,
        decisions.reason,
        records.roster_person_no,
        records.scheme,
        records.status,
        records.status_group,
        list_contains($receiving_statuses, records.status) as is_receiving,
        -- 城乡居民 vs 职工/机关事业: active in both is 重复参保.
        case when records.scheme like '城乡居民%' then 'resident' else 'employee' end
            as scheme_family

    from int_match_decisions as decisions
    inner join stg_roster_records as records using (record_id)
    where decisions.decision = 'match'
        and records.status_group in ('enrolled', 'suspended')

),

-- Most people have one matched record per insurance: it is their best, taken as it is. Ranking
-- every group with arg_min, one row each, was most of this step at province size (10.7 million
-- rows, about 38 s of its 48).
records_per_person as (

    select identity, insurance, count(*) as records
    from matched_records
    group by identity, insurance

),

one_record as (

    select
        identity,
        insurance,
        {
            'roster_person_no': roster_person_no,
            'scheme': scheme,
            'method': method,
            'reason': reason
        } as best,
        score as match_score,
        status_group = 'suspended' as only_suspended,
        is_receiving,
        false as is_duplicate_enrolment

    from matched_records
    semi join (select identity, insurance from records_per_person where records = 1)
        using (identity, insurance)

),

several_records as (

    -- A paying record beats a suspended one; then the higher score; then a stable order.
    select
        identity,
        insurance,
        -- The best record's columns in one arg_min: the ordering is evaluated once, not per column.
        arg_min(
            {
                'roster_person_no': roster_person_no,
                'scheme': scheme,
                'method': method,
                'reason': reason
            },
            (status_group <> 'enrolled', -score, roster_person_no)
        ) as best,
        max(score) as match_score,
        bool_and(status_group = 'suspended') as only_suspended,
        bool_or(is_receiving) as is_receiving,
        min(scheme_family) <> max(scheme_family) as is_duplicate_enrolment

    from matched_records
    semi join (select identity, insurance from records_per_person where records > 1)
        using (identity, insurance)
    group by identity, insurance

),

best_match as (

    select * from one_record
    union all
    select * from several_records

),

pending_review as (

    -- The strongest possible match; between equal scores, the reason decides, so that a rerun
    -- on the same inputs tells the officer the same thing.
    select
        identity,
        insurance,
        max(score) as review_score,
        arg_max({'method': method, 'reason': reason}, (score, reason, method)) as review

    from int_match_decisions
    where decision = 'review'
    group by identity, insurance

),

-- Each person once per insurance, with what coverage reads of them and their exemption.
exemptions as (

    select
        people.identity,
        insurances.insurance,
        people.age,
        people.birth_date,
        people.id_number,
        people.has_id_conflict,
        case
            when insurances.insurance = 'pension' then case
                when list_contains($pension_exempt_states, people.person_state)
                    then people.person_state
                when people.age < $pension_min_age
                    then '未满' || $pension_min_age::varchar || '周岁'
                when people.is_student then $student_reason
            end
            when list_contains($medical_excluded_states, people.person_state)
                then people.person_state
        end as exempt_reason,
        case
            when list_contains($pension_exempt_states, people.person_state)
                or list_contains($medical_excluded_states, people.person_state)
                then '人员状态'
            when insurances.insurance = 'pension' and people.age < $pension_min_age
                then '出生日期'
            when insurances.insurance = 'pension' and people.is_student then '在校生状况'
        end as exempt_evidence

    from int_registry_people as people
    cross join insurances

),

coverage as (

    select
        exemptions.identity,
        exemptions.insurance,
        case
            -- The dead, the imprisoned, soldiers and emigrants are not asked to enrol even if an
            -- old record is still active; everyone else who is enrolled counts as enrolled.
            when exemptions.exempt_reason is not null and exemptions.exempt_evidence = '人员状态'
                then 'exempt'
            when best_match.identity is not null then 'enrolled'
            when exemptions.exempt_reason is not null then 'exempt'
            when pending_review.identity is not null then 'review'
            else 'unenrolled'
        end as status,
        exemptions.exempt_reason,
        exemptions.exempt_evidence,
        best_match.best.roster_person_no,
        best_match.best.scheme as roster_scheme,
        coalesce(best_match.best.method, pending_review.review.method) as match_method,
        coalesce(best_match.match_score, pending_review.review_score) as match_score,
        coalesce(best_match.best.reason, pending_review.review.reason) as match_reason,
        list_value(
            case when best_match.only_suspended then '参保未缴费' end,
            case when best_match.is_duplicate_enrolment then '重复参保' end,
            case when exemptions.insurance = 'pension' and best_match.identity is not null
                and exemptions.age >= $benefit_age and not best_match.is_receiving
                then '60岁以上未领取待遇' end,
            case when exemptions.birth_date is null then '出生日期无法确定' end,
            case when exemptions.id_number is null then '身份证号无法确认' end,
            case when exemptions.has_id_conflict then '身份证号与他人重复' end
        ) as raw_flags

    from exemptions
    left join best_match
        on best_match.identity = exemptions.identity
        and best_match.insurance = exemptions.insurance
    left join pending_review
        on pending_review.identity = exemptions.identity
        and pending_review.insurance = exemptions.insurance

)

select
    * exclude (raw_flags),
    list_filter(raw_flags, lambda flag: flag is not null) as flags

from coverage
