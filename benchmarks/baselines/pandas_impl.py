"""Baseline (b): the benchmark segments' members as a data scientist writes them in pandas.

The straightforward version: load the warehouse tables into DataFrames, keep what is
visible on the day, take each entity's current version, attribute events to companies with
`merge_asof`, parse the JSON properties of the events that need them, count per window and
combine the masks segment by segment. No join times. Everything after the loading `SELECT`s
is pandas, so the figure is what a hand-written notebook costs on the same data.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import duckdb
import numpy as np
import pandas as pd

CONTACT_ATTRIBUTES = [
    "company_id",
    "title",
    "seniority",
    "department",
    "is_former_employee",
    "signed_up_at",
]
COMPANY_ATTRIBUTES = [
    "industry",
    "employee_count",
    "country",
    "annual_revenue",
    "founded_on",
    "tech_stack",
]
LINEAGE = ["landed_on", "source_file", "source_line"]
EVENT_COLUMNS = [
    "contact_id",
    "company_id",
    "event_name",
    "occurred_at",
    "properties",
    "landed_on",
    "is_first_copy",
]
FEBRUARY = (pd.Timestamp("2026-02-01"), pd.Timestamp("2026-03-01"))
JANUARY = (pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01"))


def as_of(day: date) -> pd.Timestamp:
    """The instant a snapshot date is evaluated at (SPEC 5): the next midnight, UTC."""
    return pd.Timestamp(datetime.combine(day + timedelta(days=1), time()))


def _load(connection: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> pd.DataFrame:
    """A whole table (some columns) as a DataFrame: the only SQL this baseline runs."""
    quoted = ", ".join(f'"{name}"' for name in columns)
    return connection.execute(f"select {quoted} from {table}").df()


def _versions(history: pd.DataFrame, key: str, day: date) -> pd.DataFrame:
    """Visible versions, one per instant (later landing, file, line wins), with valid_to."""
    visible = history[(history["landed_on"] <= pd.Timestamp(day))]
    visible = visible[visible["updated_at"] < as_of(day)]
    visible = visible.sort_values([key, "updated_at", *LINEAGE])
    visible = visible.drop_duplicates([key, "updated_at"], keep="last")
    visible["valid_to"] = visible.groupby(key)["updated_at"].shift(-1)
    return visible.reset_index(drop=True)


def _current(versions: pd.DataFrame, key: str) -> pd.DataFrame:
    """Each entity's latest version, if it is not a deletion, indexed by key."""
    latest = versions[versions["valid_to"].isna()]
    return latest[~latest["is_deleted"].astype(bool)].set_index(key)


def _events(
    connection: duckdb.DuckDBPyConnection, contact_versions: pd.DataFrame, day: date
) -> pd.DataFrame:
    """Visible first copies, with the company of the contact at the time where missing."""
    events = _load(connection, "events", EVENT_COLUMNS)
    events = events[
        events["is_first_copy"].astype(bool)
        & (events["landed_on"] <= pd.Timestamp(day))
        & (events["occurred_at"] < as_of(day))
    ].drop(columns=["is_first_copy", "landed_on"])
    missing = events[events["company_id"].isna()].sort_values("occurred_at")
    versions = contact_versions[["contact_id", "updated_at", "company_id", "is_deleted"]]
    versions = versions.rename(columns={"company_id": "version_company_id"})
    attributed = pd.merge_asof(
        missing.reset_index(),
        versions.sort_values("updated_at"),
        left_on="occurred_at",
        right_on="updated_at",
        by="contact_id",
        direction="backward",
    ).set_index("index")
    present = ~attributed["is_deleted"].astype("boolean").fillna(True)
    events.loc[attributed.index, "company_id"] = attributed["version_company_id"].where(present)
    return events


def _property(events: pd.DataFrame, name: str, key: str) -> pd.Series:
    """`properties.<key>` as text on the events of one name (JSON parsed row by row),
    missing on every other event."""
    of_name = events.loc[events["event_name"] == name, "properties"]
    parsed = of_name.map(lambda text: json.loads(text) if isinstance(text, str) else None)
    values = parsed.map(lambda value: value.get(key) if isinstance(value, dict) else None)
    return values.reindex(events.index)


def _number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


def _sql(result: pd.Series, *inputs: pd.Series) -> pd.Series:
    """A comparison as SQL sees it: NULL (pandas NA) where any input is NULL, so that the
    nullable boolean dtype's Kleene logic combines it like SQL's AND / OR."""
    missing = pd.concat([value.isna() for value in inputs], axis=1).any(axis=1)
    return result.astype("boolean").mask(missing)


def _leaf(values: pd.Series) -> pd.Series:
    """A leaf's value with NULL read as false (SPEC 4.1)."""
    return values.astype("boolean").fillna(False).astype(bool)


def _since(events: pd.DataFrame, at: pd.Timestamp, days: int) -> pd.Series:
    return events["occurred_at"] >= at - pd.Timedelta(days=days)


def _between(events: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp]) -> pd.Series:
    return (events["occurred_at"] >= window[0]) & (events["occurred_at"] < window[1])


def _counter(events: pd.DataFrame, owner: str, index: pd.Index):
    """Counts matching events per entity of `index` (zero when it has none)."""

    def count(mask: pd.Series) -> pd.Series:
        return (
            events.loc[mask.fillna(False).astype(bool), owner]
            .value_counts()
            .reindex(index, fill_value=0)
        )

    return count


def _tools(value: object) -> set[str] | None:
    """A list attribute's texts (DuckDB hands a list over as an array) as a set; None where
    the list is missing (NULL)."""
    return {str(tool) for tool in value} if isinstance(value, np.ndarray | list) else None


def _company_segments(
    companies: pd.DataFrame, events: pd.DataFrame, at: pd.Timestamp
) -> dict[str, pd.Index]:
    index = companies.index
    name = events["event_name"]
    count = _counter(events, "company_id", index)
    plan = _property(events, "pricing_viewed", "plan")
    seats = _number(_property(events, "invite_sent", "seats"))
    signup = count(name == "signup")
    page_7d = count((name == "page_viewed") & _since(events, at, 7))
    feature_3d = count((name == "feature_used") & _since(events, at, 3))
    feature_7d = count((name == "feature_used") & _since(events, at, 7))
    pricing_paid_30d = count(plan.isin(["pro", "enterprise"]) & _since(events, at, 30))
    demo_feb = count((name == "demo_requested") & _between(events, FEBRUARY))
    invite5_30d = count((seats >= 5) & _since(events, at, 30))
    trial_jan = count((name == "trial_started") & _between(events, JANUARY))

    industry, employees = companies["industry"], companies["employee_count"]
    country, revenue = companies["country"], companies["annual_revenue"]
    segments: dict[str, pd.Index] = {}
    icp = (
        _leaf(_sql(industry.isin(["saas", "fintech"]), industry))
        & _leaf(_sql(employees.between(50, 20000), employees))
    ) | _leaf(_sql(revenue >= 50_000_000, revenue) & _sql(country != "JP", country))
    segments["icp_companies"] = index[icp]
    quiet = (signup >= 1) & (page_7d <= 2) & (feature_3d == 0)
    segments["quiet_accounts"] = index[quiet]
    big = _leaf(_sql(employees >= 500, employees) & _sql(country.isin(["GB", "US", "DE"]), country))
    segments["enterprise_pricing"] = index[big & (pricing_paid_30d >= 2) & ~quiet]
    segments["active_product_accounts"] = index[feature_7d >= 10]
    segments["february_demo_accounts"] = index[demo_feb >= 1]
    founded = pd.to_datetime(companies["founded_on"]).dt.year
    young = _leaf(_sql(founded >= 2015, founded) & _sql(employees < 200, employees))
    segments["young_companies"] = index[young]
    segments["expanding_accounts"] = index[(invite5_30d >= 1) & icp]
    segments["january_trial_accounts"] = index[trial_jan >= 1]
    stacks = companies["tech_stack"].map(_tools)
    stripe = stacks.map(
        lambda tools: (
            tools is not None
            and "stripe" in tools
            and bool(tools & {"salesforce", "snowflake"})
            and "segment" not in tools
        )
    )
    segments["stripe_stacks"] = index[stripe.astype(bool)]
    return segments


def _contact_segments(
    contacts: pd.DataFrame,
    companies: pd.DataFrame,
    events: pd.DataFrame,
    at: pd.Timestamp,
    company_segments: dict[str, pd.Index],
) -> dict[str, pd.Index]:
    index = contacts.index
    name = events["event_name"]
    count = _counter(events, "contact_id", index)
    campaign = _property(events, "email_opened", "campaign")
    seats = _number(_property(events, "invite_sent", "seats"))
    feature = _property(events, "feature_used", "feature")
    page = _property(events, "page_viewed", "page")
    pricing_14d = count((name == "pricing_viewed") & _since(events, at, 14))
    newsletter = count(campaign == "jan_newsletter")
    campaign_14d = count(campaign.notna() & _since(events, at, 14))
    invite2 = count(seats >= 2)
    signup = count(name == "signup")
    page_30d = count((name == "page_viewed") & _since(events, at, 30))
    api_30d = count((feature == "api") & _since(events, at, 30))
    docs_7d = count((page == "/docs") & _since(events, at, 7))
    trial_30d = count((name == "trial_started") & _since(events, at, 30))
    feature_14d = count((name == "feature_used") & _since(events, at, 14))
    demo_feb = count((name == "demo_requested") & _between(events, FEBRUARY))
    # The last four weeks before `at`, newest first: week 0 includes both its ends.
    used = name == "feature_used"
    weeks = [_since(events, at, 7)] + [
        _since(events, at, 7 * (week + 1)) & ~_since(events, at, 7 * week) for week in (1, 2, 3)
    ]
    feature_weeks = sum((count(used & week) > 0).astype(int) for week in weeks)
    views = events.loc[name == "page_viewed", ["contact_id", "occurred_at"]].drop_duplicates()
    views = views.sort_values(["contact_id", "occurred_at"])
    previous = views.groupby("contact_id")["occurred_at"].shift()
    restarts = views[(views["occurred_at"] - previous) >= pd.Timedelta(days=7)]
    returning = restarts.loc[restarts["occurred_at"] >= at - pd.Timedelta(days=14), "contact_id"]

    # The contact's current company, if that company exists: its attributes, else NULLs.
    company = companies.reindex(contacts["company_id"]).set_axis(index)
    has_company = contacts["company_id"].isin(companies.index)
    seniority, department = contacts["seniority"], contacts["department"]
    title = contacts["title"]
    industry, country = company["industry"], company["country"]
    employees = company["employee_count"]

    def company_in(segment: str) -> pd.Series:
        return contacts["company_id"].isin(company_segments[segment])

    segments: dict[str, pd.Index] = {}
    senior = _leaf(_sql(seniority.isin(["vp", "cxo"]), seniority))
    former = _leaf(contacts["is_former_employee"])
    segments["senior_decision_makers"] = index[senior & ~former]
    growth_person = _leaf(
        (
            _sql(title.str.lower().str.contains("growth", regex=False), title)
            | _sql(department.isin(["growth", "marketing"]), department)
        )
        & _sql(seniority != "ic", seniority)
    )
    core_market = has_company & _leaf(
        _sql(industry != "education", industry)
        & _sql(country.isin(["GB", "US", "DE", "FR", "NL"]), country)
    )
    active = (campaign_14d >= 2) | (invite2 >= 1)
    segments["growth_leaders"] = index[growth_person & core_market & active]
    engaged = (
        (trial_30d >= 1)
        & feature_14d.between(2, 50)
        & (
            _leaf(_sql(seniority.isin(["manager", "director", "vp", "cxo"]), seniority))
            | (has_company & _leaf(_sql(employees >= 50, employees)))
        )
        & company_in("icp_companies")
    )
    segments["engaged_trials"] = index[engaged]
    segments["february_demo_requesters"] = index[demo_feb.between(1, 3) & ~engaged]
    segments["pricing_researchers"] = index[pricing_14d >= 3]
    segments["newsletter_readers"] = index[newsletter >= 1]
    segments["dormant_signups"] = index[(signup >= 1) & ~(page_30d >= 1)]
    segments["heavy_api_users"] = index[api_30d >= 5]
    engineer = _leaf(_sql(department.isin(["engineering", "data"]), department))
    large = has_company & _leaf(_sql(employees >= 1000, employees))
    segments["engineers_at_large_companies"] = index[engineer & large]
    segments["docs_readers"] = index[docs_7d.between(2, 20)]
    not_ic = _leaf(_sql(seniority != "ic", seniority))
    segments["enterprise_pricing_contacts"] = index[company_in("enterprise_pricing") & not_ic]
    signed_up = contacts["signed_up_at"]
    january = _leaf(
        _sql(signed_up.dt.year == 2026, signed_up) & _sql(signed_up.dt.month == 1, signed_up)
    )
    segments["january_signups"] = index[january]
    chained = _chained(events, at, ["trial_started", "feature_used", "invite_sent"], 3)
    segments["activated_trials"] = index[index.isin(chained)]
    segments["returning_readers"] = index[index.isin(returning)]
    segments["weekly_feature_users"] = index[feature_weeks >= 3]
    return segments


def _chained(events: pd.DataFrame, at: pd.Timestamp, names: list[str], days: int) -> pd.Series:
    """Contacts with an event of each name in order, each strictly later than the one before
    and at most `days` days after it, all in the last 30 days: the chains' ends, step by step
    (each contact's chains so far merged with its events of the next name)."""
    recent = events.loc[_since(events, at, 30), ["contact_id", "event_name", "occurred_at"]]
    ends = recent.loc[recent["event_name"] == names[0], ["contact_id", "occurred_at"]]
    for name in names[1:]:
        following = recent.loc[recent["event_name"] == name, ["contact_id", "occurred_at"]]
        pairs = ends.merge(following, on="contact_id", suffixes=("_before", ""))
        gap = pairs["occurred_at"] - pairs["occurred_at_before"]
        in_time = (gap > pd.Timedelta(0)) & (gap <= pd.Timedelta(days=days))
        ends = pairs.loc[in_time, ["contact_id", "occurred_at"]].drop_duplicates()
    return ends["contact_id"]


def members(connection: duckdb.DuckDBPyConnection, day: date) -> pd.DataFrame:
    """Members of every benchmark segment at `as_of(day)`: segment, entity_type, entity_id."""
    at = as_of(day)
    base = ["updated_at", "is_deleted", *LINEAGE]
    contact_versions = _versions(
        _load(connection, "contacts_history", ["contact_id", *base, *CONTACT_ATTRIBUTES]),
        "contact_id",
        day,
    )
    company_versions = _versions(
        _load(connection, "companies_history", ["company_id", *base, *COMPANY_ATTRIBUTES]),
        "company_id",
        day,
    )
    contacts = _current(contact_versions, "contact_id")
    companies = _current(company_versions, "company_id")
    events = _events(connection, contact_versions, day)
    company_segments = _company_segments(companies, events, at)
    contact_segments = _contact_segments(contacts, companies, events, at, company_segments)
    frames = [
        pd.DataFrame({"segment": segment, "entity_type": entity, "entity_id": ids.astype(str)})
        for entity, segments in (("company", company_segments), ("contact", contact_segments))
        for segment, ids in segments.items()
    ]
    return pd.concat(frames, ignore_index=True)
