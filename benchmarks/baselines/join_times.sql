-- Baseline (c): the join times of the segments the benchmark's definition change makes
-- stale, at as_of($day), in plain DuckDB SQL (gaps and islands over change points).
--
-- The change (benchmarks/steps.py, CHANGE) raises enterprise_pricing's count of paid
-- pricing views in 30 days from 2 to 3; enterprise_pricing_contacts references it. The
-- recalculation must date every member of both from the whole history (SPEC 5: the start of
-- its current unbroken stretch of membership), which this script does with the new
-- definition written out by hand:
--   enterprise_pricing (company): employee_count >= 500 and country in (GB, US, DE), at
--     least 3 pricing_viewed with plan pro or enterprise in the last 30 days, and not in
--     quiet_accounts (a signup ever, at most 2 page views in 7 days, no feature use in 3);
--   enterprise_pricing_contacts (contact): the contact's company at the time is in
--     enterprise_pricing, and seniority <> 'ic'.
-- Every input only changes at a change point: a version, an event (counted from its
-- instant on), an event ageing out (counted up to occurred_at + N days, not after). Each
-- company's condition is evaluated once per change point, on the stretch up to the next
-- one; the islands of membership then give the join times. Visibility is SPEC 5's, as in
-- membership.sql. Parameters: $day (DATE) and $as_of (TIMESTAMP).

-- Visible versions, one per instant (the later landing, file and line wins), with the
-- validity of each contact version.
create or replace temp table jt_company_versions as
select company_id, updated_at, not is_deleted as is_present,
       not is_deleted and coalesce(employee_count >= 500 and country in ('GB', 'US', 'DE'), false)
           as is_big
from companies_history
where landed_on <= $day and updated_at < $as_of
qualify row_number() over (
    partition by company_id, updated_at order by landed_on desc, source_file desc, source_line desc
) = 1;

create or replace temp table jt_contact_versions as
select contact_id, updated_at as valid_from,
       lead(updated_at) over (partition by contact_id order by updated_at) as valid_to,
       is_deleted, company_id, seniority
from (
    select * from contacts_history
    where landed_on <= $day and updated_at < $as_of
    qualify row_number() over (
        partition by contact_id, updated_at
        order by landed_on desc, source_file desc, source_line desc
    ) = 1
);

-- The visible first copies of the four event names the conditions count, each with its
-- company: its own, else its contact's at the time (no company: it counts for none).
create or replace temp table jt_events as
with visible as (
    select contact_id, company_id, event_name, occurred_at,
           event_name = 'pricing_viewed'
               and coalesce(properties ->> '$.plan' in ('pro', 'enterprise'), false) as is_paid
    from events
    where is_first_copy and landed_on <= $day and occurred_at < $as_of
      and event_name in ('pricing_viewed', 'signup', 'page_viewed', 'feature_used')
)
select company_id, event_name, occurred_at, is_paid from visible where company_id is not null
union all
select v.company_id, e.event_name, e.occurred_at, e.is_paid
from visible as e
join jt_contact_versions as v
  on v.contact_id = e.contact_id and not v.is_deleted
 and v.valid_from <= e.occurred_at and (v.valid_to is null or e.occurred_at < v.valid_to)
where e.company_id is null and v.company_id is not null;

-- Only a company that is big at some version and has at least 3 paid pricing views in all
-- can ever be a member: the others need no timeline.
create or replace temp table jt_candidates as
select company_id from jt_company_versions where is_big
intersect
select company_id from jt_events where is_paid group by company_id having count(*) >= 3;

-- Each candidate's change points, with what changes there: the version in force (its
-- flags) and how each count moves (+1 when an event happens, -1 when it leaves a window).
create or replace temp table jt_company_timeline as
with candidate_events as (
    select * from jt_events where company_id in (select company_id from jt_candidates)
),
changes as (
    select company_id, updated_at as t, is_present, is_big,
           0 as paid_30d, 0 as signups, 0 as pages_7d, 0 as features_3d
    from jt_company_versions where company_id in (select company_id from jt_candidates)
    union all
    select company_id, occurred_at, null, null, 1, 0, 0, 0 from candidate_events where is_paid
    union all
    select company_id, occurred_at + interval 30 day, null, null, -1, 0, 0, 0
    from candidate_events where is_paid
    union all
    select company_id, occurred_at, null, null, 0, 1, 0, 0
    from candidate_events where event_name = 'signup'
    union all
    select company_id, occurred_at, null, null, 0, 0, 1, 0
    from candidate_events where event_name = 'page_viewed'
    union all
    select company_id, occurred_at + interval 7 day, null, null, 0, 0, -1, 0
    from candidate_events where event_name = 'page_viewed'
    union all
    select company_id, occurred_at, null, null, 0, 0, 0, 1
    from candidate_events where event_name = 'feature_used'
    union all
    select company_id, occurred_at + interval 3 day, null, null, 0, 0, 0, -1
    from candidate_events where event_name = 'feature_used'
),
points as (
    select company_id, t, bool_or(is_present) as is_present, bool_or(is_big) as is_big,
           sum(paid_30d) as paid_30d, sum(signups) as signups, sum(pages_7d) as pages_7d,
           sum(features_3d) as features_3d
    from changes
    where t < $as_of
    group by company_id, t
),
states as (
    select company_id, t,
           coalesce(last_value(is_present ignore nulls) over w, false) as is_present,
           coalesce(last_value(is_big ignore nulls) over w, false) as is_big,
           sum(paid_30d) over w as paid_30d, sum(signups) over w as signups,
           sum(pages_7d) over w as pages_7d, sum(features_3d) over w as features_3d
    from points
    window w as (partition by company_id order by t rows between unbounded preceding and current row)
)
select company_id, t,
       is_big and paid_30d >= 3
       and not (is_present and signups >= 1 and pages_7d <= 2 and features_3d = 0) as is_member
from states;

-- The islands: each stretch of membership [valid_from, valid_to), valid_to NULL when it
-- lasts to as_of.
create or replace temp table jt_company_stretches as
with flagged as (
    select company_id, t, is_member,
           lead(t) over (partition by company_id order by t) as next_t,
           is_member is distinct from lag(is_member, 1, false)
               over (partition by company_id order by t) as starts
    from jt_company_timeline
),
numbered as (
    select *, sum(starts::int) over (
        partition by company_id order by t rows between unbounded preceding and current row
    ) as stretch
    from flagged
)
select company_id, min(t) as valid_from,
       case when count(next_t) = count(*) then max(next_t) end as valid_to
from numbered
where is_member
group by company_id, stretch;

-- A contact is a member while a version of it that is not a deletion and is not an IC
-- points at a company inside one of its stretches: the overlaps, merged where they touch.
create or replace temp table jt_contact_stretches as
with pieces as (
    select v.contact_id, greatest(v.valid_from, s.valid_from) as valid_from,
           least(v.valid_to, s.valid_to) as valid_to  -- NULL (open) only when both are
    from jt_contact_versions as v
    join jt_company_stretches as s
      on s.company_id = v.company_id
     and (s.valid_to is null or v.valid_from < s.valid_to)
     and (v.valid_to is null or s.valid_from < v.valid_to)
    where not v.is_deleted and coalesce(v.seniority <> 'ic', false)
),
flagged as (
    select *, valid_from is distinct from lag(valid_to)
               over (partition by contact_id order by valid_from) as starts
    from pieces
),
numbered as (
    select *, sum(starts::int) over (
        partition by contact_id order by valid_from rows between unbounded preceding and current row
    ) as stretch
    from flagged
)
select contact_id, min(valid_from) as valid_from,
       case when count(valid_to) = count(*) then max(valid_to) end as valid_to
from numbered
group by contact_id, stretch;

-- The members at as_of and their join times: the stretches still open.
create or replace temp table jt_join_times as
select 'enterprise_pricing' as segment, 'company' as entity_type, company_id as entity_id,
       valid_from as joined_at
from jt_company_stretches where valid_to is null
union all
select 'enterprise_pricing_contacts', 'contact', contact_id, valid_from
from jt_contact_stretches where valid_to is null;
