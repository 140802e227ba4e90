"""Which users' profiles a provider's policies need, and which of their fields: so a vendor that charges a
call per profile (Litmos) reads only those.

Pure. Profiles are needed by `targets.where` (the fields it names), `targets.joined_within` and
`due: {from: hire_date}` (join dates). Only users the cheaper targets select can be admitted by a narrowing:
a policy that lists departments, groups or users needs the profiles of those users alone (the users its
`exclude` removes included, so the plan still counts them as excluded); a `where` or `joined_within` given
alone narrows everyone, and then every profile is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from reconciler.core.attributes import field_key
from reconciler.core.directory import DirectoryIndex
from reconciler.core.model import Directory, Policy, Settings, Targets
from reconciler.core.references import Resolver
from reconciler.core.where import lists, narrows


@dataclass(frozen=True)
class ProfileNeed:
    """Profile fields (comparable keys, see `attributes.field_key`), join dates, and whose (None: all)."""

    field_keys: frozenset[str] = frozenset()
    join_dates: bool = False
    user_ids: frozenset[str] | None = frozenset()

    @property
    def anything(self) -> bool:
        """True when some policy reads a profile field or a join date."""
        return bool(self.field_keys) or self.join_dates


NOTHING = ProfileNeed()


def profile_need(policies: Iterable[Policy], directory: Directory, *, provider: str) -> ProfileNeed:
    """What the policies of `provider` need from users' profiles (see the module doc)."""
    keys: set[str] = set()
    join_dates = False
    users: set[str] | None = set()
    resolver: Resolver | None = None
    for policy in policies:
        if policy.provider not in (None, provider):
            continue
        hire_dates = any(a.terms.due.from_hire_date for a in policy.assign)
        if not narrows(policy.targets) and not hire_dates:
            continue
        keys |= {field_key(c.field) for c in policy.targets.where}
        join_dates = join_dates or hire_dates or policy.targets.joined_within_hours is not None
        if users is None:
            continue
        if not lists(policy.targets):
            if narrows(policy.targets):
                users = None  # a narrowing alone selects from everyone
            continue
        resolver = resolver or Resolver(DirectoryIndex.build(directory), Settings())
        users |= set(resolver.targets(replace(policy, targets=_listed(policy.targets)), set()))
    return ProfileNeed(frozenset(keys), join_dates, None if users is None else frozenset(users))


def _listed(targets: Targets) -> Targets:
    """The targets without their narrowing: the users the cheaper targets select."""
    return replace(targets, where=(), joined_within_hours=None)
