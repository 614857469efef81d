-- Baseline (a): the benchmark segments' members at as_of($day), in plain DuckDB SQL.
--
-- What a data engineer writes when only today's members matter: no join times, no
-- timelines, no Dagster. Each segment is a set of entity ids computed from the entities'
-- current versions and event counts inside each window, evaluated at one instant
-- ($as_of = $day + 1 day, 00:00 UTC). Visibility follows SPEC 5 exactly (rows landed on or
-- before $day and stamped before $as_of; the later landing, file and line wins a tie;
-- first landed copy of an event), so its member sets must equal the pipeline's.
-- Parameters: $day (DATE) and $as_of (TIMESTAMP). Statements are separated by ";".

-- Every visible contact version, one per instant, with its validity interval: the current
-- version is the contact; the earlier ones attribute events to the company of their time.
create or replace temp table bl_contact_versions as
select contact_id, updated_at as valid_from,
       lead(updated_at) over (partition by contact_id order by updated_at) as valid_to,
       is_deleted, company_id, title, seniority, department, is_former_employee, signed_up_at
from contacts_history
where landed_on <= $day and updated_at < $as_of
qualify row_number() over (
    partition by contact_id, updated_at order by landed_on desc, source_file desc, source_line desc
) = 1;

create or replace temp table bl_contacts as
select * exclude (valid_from, valid_to, is_deleted)
from bl_contact_versions
where valid_to is null and not is_deleted;

create or replace temp table bl_companies as
select * exclude (is_deleted)
from (
    select company_id, is_deleted, name, domain, industry, employee_count, country,
           annual_revenue, founded_on, tech_stack
    from companies_history
    where landed_on <= $day and updated_at < $as_of
    qualify row_number() over (
        partition by company_id
        order by updated_at desc, landed_on desc, source_file desc, source_line desc
    ) = 1
)
where not is_deleted;

-- Visible events, each attributed to a company: its own, else its contact's at the time.
-- The one property each event name carries is read out of the JSON once, as `detail`.
create or replace temp table bl_events as
with visible as (
    select contact_id, company_id, event_name, occurred_at,
           case event_name
               when 'page_viewed' then properties ->> '$.page'
               when 'pricing_viewed' then properties ->> '$.plan'
               when 'email_opened' then properties ->> '$.campaign'
               when 'feature_used' then properties ->> '$.feature'
               when 'invite_sent' then properties ->> '$.seats'
           end as detail
    from events
    where is_first_copy and landed_on <= $day and occurred_at < $as_of
)
select * from visible where company_id is not null
union all
select e.contact_id, v.company_id, e.event_name, e.occurred_at, e.detail
from visible as e
left join bl_contact_versions as v
  on v.contact_id = e.contact_id and not v.is_deleted
 and v.valid_from <= e.occurred_at and (v.valid_to is null or e.occurred_at < v.valid_to)
where e.company_id is null;

-- One pass per owner: every count any segment needs, as filtered aggregates.
create or replace temp table bl_contact_counts as
select contact_id,
       count(*) filter (event_name = 'pricing_viewed'
                        and occurred_at >= $as_of - interval 14 day) as pricing_14d,
       count(*) filter (event_name = 'email_opened'
                        and detail = 'jan_newsletter') as newsletter_all,
       count(*) filter (event_name = 'email_opened' and detail is not null
                        and occurred_at >= $as_of - interval 14 day) as campaign_14d,
       count(*) filter (event_name = 'invite_sent'
                        and try_cast(detail as double) >= 2) as invite2_all,
       count(*) filter (event_name = 'signup') as signup_all,
       count(*) filter (event_name = 'page_viewed'
                        and occurred_at >= $as_of - interval 30 day) as page_30d,
       count(*) filter (event_name = 'feature_used' and detail = 'api'
                        and occurred_at >= $as_of - interval 30 day) as api_30d,
       count(*) filter (event_name = 'page_viewed' and detail = '/docs'
                        and occurred_at >= $as_of - interval 7 day) as docs_7d,
       count(*) filter (event_name = 'trial_started'
                        and occurred_at >= $as_of - interval 30 day) as trial_30d,
       count(*) filter (event_name = 'feature_used'
                        and occurred_at >= $as_of - interval 14 day) as feature_14d,
       count(*) filter (event_name = 'demo_requested'
                        and occurred_at >= timestamp '2026-02-01'
                        and occurred_at < timestamp '2026-03-01') as demo_feb,
       -- The last four weeks before as_of, newest first: week 0 includes both its ends
       -- (as last_days: 7), the others their older end only.
       count(*) filter (event_name = 'feature_used'
                        and occurred_at >= $as_of - interval 7 day) as feature_week0,
       count(*) filter (event_name = 'feature_used'
                        and occurred_at >= $as_of - interval 14 day
                        and occurred_at < $as_of - interval 7 day) as feature_week1,
       count(*) filter (event_name = 'feature_used'
                        and occurred_at >= $as_of - interval 21 day
                        and occurred_at < $as_of - interval 14 day) as feature_week2,
       count(*) filter (event_name = 'feature_used'
                        and occurred_at >= $as_of - interval 28 day
                        and occurred_at < $as_of - interval 21 day) as feature_week3
from bl_events
group by contact_id;

-- Restarts: a page view at least 7 days after the contact's previous one (the views of one
-- instant are one), with its time.
create or replace temp table bl_page_restarts as
select contact_id, occurred_at
from (
    select contact_id, occurred_at,
           lag(occurred_at) over (partition by contact_id order by occurred_at) as previous
    from (select distinct contact_id, occurred_at from bl_events where event_name = 'page_viewed')
)
where previous <= occurred_at - interval 7 day;

create or replace temp table bl_company_counts as
select company_id,
       count(*) filter (event_name = 'signup') as signup_all,
       count(*) filter (event_name = 'page_viewed'
                        and occurred_at >= $as_of - interval 7 day) as page_7d,
       count(*) filter (event_name = 'feature_used'
                        and occurred_at >= $as_of - interval 3 day) as feature_3d,
       count(*) filter (event_name = 'feature_used'
                        and occurred_at >= $as_of - interval 7 day) as feature_7d,
       count(*) filter (event_name = 'pricing_viewed'
                        and detail in ('pro', 'enterprise')
                        and occurred_at >= $as_of - interval 30 day) as pricing_paid_30d,
       count(*) filter (event_name = 'demo_requested'
                        and occurred_at >= timestamp '2026-02-01'
                        and occurred_at < timestamp '2026-03-01') as demo_feb,
       count(*) filter (event_name = 'invite_sent'
                        and try_cast(detail as double) >= 5
                        and occurred_at >= $as_of - interval 30 day) as invite5_30d,
       count(*) filter (event_name = 'trial_started'
                        and occurred_at >= timestamp '2026-01-01'
                        and occurred_at < timestamp '2026-02-01') as trial_jan
from bl_events
where company_id is not null
group by company_id;

-- Companies with their counts (zero when they have no events) ...
create or replace temp table bl_company_facts as
select c.*, coalesce(k.signup_all, 0) as signup_all, coalesce(k.page_7d, 0) as page_7d,
       coalesce(k.feature_3d, 0) as feature_3d, coalesce(k.feature_7d, 0) as feature_7d,
       coalesce(k.pricing_paid_30d, 0) as pricing_paid_30d,
       coalesce(k.demo_feb, 0) as demo_feb, coalesce(k.invite5_30d, 0) as invite5_30d,
       coalesce(k.trial_jan, 0) as trial_jan
from bl_companies as c left join bl_company_counts as k using (company_id);

-- ... and contacts with theirs and their current company's attributes (a leaf on a
-- company that does not exist is false).
create or replace temp table bl_contact_facts as
select p.*, co.company_id is not null as has_company, co.industry as company_industry,
       co.country as company_country, co.employee_count as company_employee_count,
       coalesce(k.pricing_14d, 0) as pricing_14d, coalesce(k.newsletter_all, 0) as newsletter_all,
       coalesce(k.campaign_14d, 0) as campaign_14d, coalesce(k.invite2_all, 0) as invite2_all,
       coalesce(k.signup_all, 0) as signup_all, coalesce(k.page_30d, 0) as page_30d,
       coalesce(k.api_30d, 0) as api_30d, coalesce(k.docs_7d, 0) as docs_7d,
       coalesce(k.trial_30d, 0) as trial_30d, coalesce(k.feature_14d, 0) as feature_14d,
       coalesce(k.demo_feb, 0) as demo_feb,
       (coalesce(k.feature_week0, 0) > 0)::int + (coalesce(k.feature_week1, 0) > 0)::int
       + (coalesce(k.feature_week2, 0) > 0)::int + (coalesce(k.feature_week3, 0) > 0)::int
           as feature_weeks
from bl_contacts as p
left join bl_companies as co on co.company_id = p.company_id
left join bl_contact_counts as k using (contact_id);

-- The segments, referenced ones first. A leaf whose value is NULL counts as false.
create or replace temp table bl_members (segment varchar, entity_type varchar, entity_id varchar);

insert into bl_members
select 'icp_companies', 'company', company_id from bl_company_facts
where (coalesce(industry in ('saas', 'fintech'), false)
       and coalesce(employee_count between 50 and 20000, false))
   or coalesce(annual_revenue >= 50000000 and country <> 'JP', false);

insert into bl_members
select 'quiet_accounts', 'company', company_id from bl_company_facts
where signup_all >= 1 and page_7d <= 2 and feature_3d = 0;

insert into bl_members
select 'enterprise_pricing', 'company', company_id from bl_company_facts
where coalesce(employee_count >= 500 and country in ('GB', 'US', 'DE'), false)
  and pricing_paid_30d >= 2
  and company_id not in (
      select entity_id from bl_members where segment = 'quiet_accounts'
  );

insert into bl_members
select 'active_product_accounts', 'company', company_id from bl_company_facts
where feature_7d >= 10;

insert into bl_members
select 'february_demo_accounts', 'company', company_id from bl_company_facts
where demo_feb >= 1;

insert into bl_members
select 'young_companies', 'company', company_id from bl_company_facts
where coalesce(year(founded_on) >= 2015 and employee_count < 200, false);

insert into bl_members
select 'expanding_accounts', 'company', company_id from bl_company_facts
where invite5_30d >= 1
  and company_id in (select entity_id from bl_members where segment = 'icp_companies');

insert into bl_members
select 'january_trial_accounts', 'company', company_id from bl_company_facts
where trial_jan >= 1;

-- A list attribute: what the list holds (a missing list holds nothing, and its NOT neither).
insert into bl_members
select 'stripe_stacks', 'company', company_id from bl_company_facts
where coalesce(list_contains(tech_stack, 'stripe')
               and list_has_any(tech_stack, ['salesforce', 'snowflake'])
               and not list_contains(tech_stack, 'segment'), false);

insert into bl_members
select 'senior_decision_makers', 'contact', contact_id from bl_contact_facts
where coalesce(seniority in ('vp', 'cxo'), false) and not coalesce(is_former_employee, false);

insert into bl_members
select 'growth_leaders', 'contact', contact_id from bl_contact_facts
where coalesce((lower(title) like '%growth%' or department in ('growth', 'marketing'))
               and seniority <> 'ic', false)
  and has_company
  and coalesce(company_industry <> 'education'
               and company_country in ('GB', 'US', 'DE', 'FR', 'NL'), false)
  and (campaign_14d >= 2 or invite2_all >= 1);

insert into bl_members
select 'engaged_trials', 'contact', contact_id from bl_contact_facts
where trial_30d >= 1 and feature_14d between 2 and 50
  and (coalesce(seniority in ('manager', 'director', 'vp', 'cxo'), false)
       or (has_company and coalesce(company_employee_count >= 50, false)))
  and company_id in (select entity_id from bl_members where segment = 'icp_companies');

insert into bl_members
select 'february_demo_requesters', 'contact', contact_id from bl_contact_facts
where demo_feb between 1 and 3
  and contact_id not in (select entity_id from bl_members where segment = 'engaged_trials');

insert into bl_members
select 'pricing_researchers', 'contact', contact_id from bl_contact_facts
where pricing_14d >= 3;

insert into bl_members
select 'newsletter_readers', 'contact', contact_id from bl_contact_facts
where newsletter_all >= 1;

insert into bl_members
select 'dormant_signups', 'contact', contact_id from bl_contact_facts
where signup_all >= 1 and not page_30d >= 1;

insert into bl_members
select 'heavy_api_users', 'contact', contact_id from bl_contact_facts
where api_30d >= 5;

insert into bl_members
select 'engineers_at_large_companies', 'contact', contact_id from bl_contact_facts
where coalesce(department in ('engineering', 'data'), false)
  and has_company and coalesce(company_employee_count >= 1000, false);

insert into bl_members
select 'docs_readers', 'contact', contact_id from bl_contact_facts
where docs_7d between 2 and 20;

insert into bl_members
select 'enterprise_pricing_contacts', 'contact', contact_id from bl_contact_facts
where company_id in (select entity_id from bl_members where segment = 'enterprise_pricing')
  and coalesce(seniority <> 'ic', false);

insert into bl_members
select 'january_signups', 'contact', contact_id from bl_contact_facts
where coalesce(year(signed_up_at) = 2026 and month(signed_up_at) = 1, false);

-- A sequence: a trial, a feature use after it, an invitation after that, each strictly later
-- than the one before and at most 3 days after it, the trial (so every step) in the last
-- 30 days.
insert into bl_members
select distinct 'activated_trials', 'contact', a.contact_id
from bl_events as a
join bl_events as b
  on b.contact_id = a.contact_id and b.event_name = 'feature_used'
 and b.occurred_at > a.occurred_at and b.occurred_at <= a.occurred_at + interval 3 day
join bl_events as c
  on c.contact_id = b.contact_id and c.event_name = 'invite_sent'
 and c.occurred_at > b.occurred_at and c.occurred_at <= b.occurred_at + interval 3 day
where a.event_name = 'trial_started' and a.occurred_at >= $as_of - interval 30 day
  and a.contact_id in (select contact_id from bl_contacts);

insert into bl_members
select 'returning_readers', 'contact', contact_id from bl_contact_facts
where contact_id in (
    select contact_id from bl_page_restarts where occurred_at >= $as_of - interval 14 day
);

insert into bl_members
select 'weekly_feature_users', 'contact', contact_id from bl_contact_facts
where feature_weeks >= 3;
