"""The directory a provider's policies need: profile fields and join dates only when a policy uses them.

`targets.where`, `targets.joined_within` and `due: {from: hire_date}` read users' profiles, which on Litmos
costs a call per user; a repository that uses none of them never pays for it, and one that does pays only for
the fields the listing lacks and the users its cheaper targets select (`core.profiles`).
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.core.model import Directory, Policy
from reconciler.core.profiles import profile_need
from reconciler.core.where import narrows
from reconciler.providers.base import Provider


def needs_profiles(policies: Iterable[Policy], provider: str) -> bool:
    """True when a policy of `provider` narrows by profile fields or join date, or counts due from it."""
    return any(
        (p.provider is None or p.provider == provider)
        and (narrows(p.targets) or any(a.terms.due.from_hire_date for a in p.assign))
        for p in policies
    )


def read_directory(provider: Provider, policies: Iterable[Policy]) -> Directory:
    """`provider.read_directory()`, with users' profiles when its policies need them."""
    directory = provider.read_directory()
    if needs_profiles(policies, provider.name):
        directory = provider.read_user_profiles(
            directory, profile_need(policies, directory, provider=provider.name)
        )
    return directory
