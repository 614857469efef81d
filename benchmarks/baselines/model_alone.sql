-- The tables an entity model reads at as_of($day), written by hand (SPEC 4.4 and 5), for
-- the model's own SELECT to run alone on the engine: `companies` and `contacts` hold each
-- existing record's version in force, `events` the visible first copies, each attributed to
-- a company (its own, else its contact's at the time). The warehouse is attached as `w`.
-- Parameters: $day (DATE) and $as_of (TIMESTAMP).

create or replace temp table contact_versions as
select * exclude (landed_on, source_file, source_line), updated_at as valid_from,
       lead(updated_at) over (partition by contact_id order by updated_at) as valid_to
from w.contacts_history
where landed_on <= $day and updated_at < $as_of
qualify row_number() over (
    partition by contact_id, updated_at order by landed_on desc, source_file desc, source_line desc
) = 1;

create or replace temp table contacts as
select * exclude (valid_from, valid_to, is_deleted)
from contact_versions
where valid_to is null and not is_deleted;

create or replace temp table companies as
select * exclude (is_deleted)
from (
    select * exclude (landed_on, source_file, source_line)
    from w.companies_history
    where landed_on <= $day and updated_at < $as_of
    qualify row_number() over (
        partition by company_id
        order by updated_at desc, landed_on desc, source_file desc, source_line desc
    ) = 1
)
where not is_deleted;

create or replace temp table events as
with visible as (
    select event_id, contact_id, company_id, event_name, occurred_at, properties
    from w.events
    where is_first_copy and landed_on <= $day and occurred_at < $as_of
)
select * from visible where company_id is not null
union all
select e.event_id, e.contact_id, v.company_id, e.event_name, e.occurred_at, e.properties
from visible as e
left join contact_versions as v
  on v.contact_id = e.contact_id and not v.is_deleted
 and v.valid_from <= e.occurred_at and (v.valid_to is null or e.occurred_at < v.valid_to)
where e.company_id is null;
