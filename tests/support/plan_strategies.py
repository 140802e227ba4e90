"""Hypothesis strategies for random plans: every field, every enum value, odd strings and time zones."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from reconciler.core.model import Completion, Due, DueKind, Enrollment, ItemKind, Origin, ProviderKind, Terms
from reconciler.core.plan import (
    Action,
    ActionKind,
    IdentityIssue,
    IdentityProblem,
    IdentityReport,
    Kept,
    KeptReason,
    Plan,
    ProviderPlan,
    Risk,
    RunOptions,
    Source,
    Summary,
    Warning,
)
from reconciler.errors import Position

texts = st.text(max_size=12)
counts = st.integers(min_value=0, max_value=10**9)
small_lists = {"max_size": 3}

offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
datetimes = st.datetimes(timezones=st.none() | st.just(dt.UTC) | offsets)
dates = st.dates()
positions = st.builds(
    Position, texts, st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=999)
)
sources = st.builds(Source, texts, positions, texts)
dues = st.builds(
    Due, st.sampled_from(DueKind), st.none() | dates, st.none() | st.integers(min_value=0, max_value=10**6)
)
terms = st.builds(Terms, dues, st.booleans(), st.none() | dates)

enrollments = st.builds(
    Enrollment,
    user_id=texts,
    item_id=texts,
    item_kind=st.sampled_from(ItemKind),
    id=st.none() | texts,
    access=st.none() | datetimes,
    due=st.none() | datetimes,
    due_hours=st.none() | st.integers(min_value=0, max_value=10**6),
    due_is_default=st.booleans(),
    lock_after_due=st.booleans(),
    origin=st.sampled_from(Origin),
    completion=st.sampled_from(Completion),
    progress=st.floats(min_value=0, max_value=100, allow_nan=False),
    completed_at=st.none() | datetimes,
)

actions = st.builds(
    Action,
    kind=st.sampled_from(ActionKind),
    user_id=texts,
    user_login=texts,
    item_id=texts,
    item_kind=st.sampled_from(ItemKind),
    item_title=texts,
    terms=st.none() | terms,
    before=st.none() | enrollments,
    sources=st.lists(sources, **small_lists).map(tuple),
    changes=st.lists(st.sampled_from(["due", "lock_after_due", "access"]), **small_lists).map(tuple),
    risks=st.lists(st.sampled_from(Risk), **small_lists).map(tuple),
    notify=st.booleans(),
    department=texts,
)

kept_records = st.builds(
    Kept,
    st.sampled_from(KeptReason),
    texts,
    texts,
    texts,
    texts,
    texts,
    st.lists(sources, **small_lists).map(tuple),
)
issues = st.builds(IdentityIssue, texts, texts, st.sampled_from(IdentityProblem), positions, texts)
identity_reports = st.builds(IdentityReport, st.lists(issues, **small_lists).map(tuple), counts, counts)
warnings = st.builds(Warning, texts, st.none() | positions)
summaries = st.builds(Summary, *([counts] * 9))

provider_plans = st.builds(
    ProviderPlan,
    provider=texts,
    kind=st.sampled_from(ProviderKind),
    account=texts,
    actions=st.lists(actions, max_size=4).map(tuple),
    kept=st.lists(kept_records, **small_lists).map(tuple),
    identity=identity_reports,
    warnings=st.lists(warnings, **small_lists).map(tuple),
    summary=summaries,
    managed_item_ids=st.lists(texts, **small_lists).map(tuple),
)

plans = st.builds(
    Plan,
    created_at=datetimes,
    manifest_digest=texts,
    providers=st.lists(provider_plans, max_size=2).map(tuple),
    options=st.builds(RunOptions, st.booleans(), st.booleans(), st.lists(texts, **small_lists).map(tuple)),
    guard=st.dictionaries(texts, texts, max_size=3),
)
