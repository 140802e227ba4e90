"""An iSpring key's department scope, as the vendor shows it (for `provider` and doctor's `probe`).

The vendor's pages say a department administrator works only with the departments they manage and their
sub-departments, and that asking for users or results of another department is `Permission denied`
(GetUsers, ListLearnersResults; vendor-apis.md 1.2). No call returns the caller's own role, so the scope is
read from what the key is shown and refused:
- the department list: a listed department whose parent is not listed marks a department administrator's
  part of the tree (an account administrator's list is the whole tree, one root). Doctor confirms it by
  asking results of that parent, which the vendor documents as refused;
- a refused account-wide user list: if the same call for one department works, the key is a department
  administrator's (a server may refuse the unfiltered call instead of filtering it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reconciler.core.doctor import WHOLE_ACCOUNT, Check, ScopeFinding, Verdict
from reconciler.core.model import Department

Ask = Callable[[str], tuple[int | None, str]]  # a department id → (status, the vendor's message)

SCOPE_MEANING = (
    "plans see only these departments and their users: a target outside them is invisible (an unknown "
    "department, or users missing from a target), and prune cannot see enrollments outside them, so "
    "`prune: true` is unsafe for any item also assigned elsewhere; use an account administrator's key to "
    "manage the whole account"
)
REFUSED_MEANING = (
    "enrollctl reads users account-wide, so plan cannot run with this key; use an account administrator's "
    "key (a department administrator's reaches only the departments it manages)"
)


def department_scope(departments: Sequence[Department]) -> frozenset[str] | None:
    """The departments a listing is limited to, or None when it holds its whole tree.

    A department administrator sees the departments they manage with their sub-departments, so some listed
    department has a parent that is not listed; an account's full list has none such (one root)."""
    listed = {d.id for d in departments}
    if any(d.parent_id is not None and d.parent_id not in listed for d in departments):
        return frozenset(listed)
    return None


def denied(status: int | None, message: str) -> bool:
    """Whether an answer is the vendor's `Permission denied` (REST 403, or the SOAP fault)."""
    return status == 403 or "permission denied" in message.lower()


def refused_account_wide(
    users: Check | None, department: Department | None, ask_users_of: Ask
) -> ScopeFinding | None:
    """A department administrator's scope shown by a refused account-wide user list, if it is one."""
    if users is None or users.verdict is not Verdict.REFUSED or not denied(users.status, users.detail):
        return None
    if department is None:
        return None
    status, _ = ask_users_of(department.id)
    if status != 200:
        return None
    detail = (
        f"department administrator: the account-wide {users.call} is refused ({users.status} "
        f"{users.detail!r}), the same call for department {department.name!r} works"
    )
    return ScopeFinding(frozenset({department.id}), detail, REFUSED_MEANING, (department.name,))


def listed_scope(departments: Sequence[Department], ask_results_of: Ask) -> ScopeFinding:
    """The scope a department list shows, confirmed by the vendor's refusal of the parent's results."""
    scope = department_scope(departments)
    if scope is None:
        return WHOLE_ACCOUNT
    tops = sorted(d.name for d in departments if d.parent_id not in scope)
    parent = next(d.parent_id for d in departments if d.parent_id and d.parent_id not in scope)
    status, message = ask_results_of(parent)
    shown = f"{len(scope)} departments under {', '.join(tops)}, not their parent department"
    if denied(status, message):
        confirmed = f"; the vendor refuses results of the parent department ({status} {message!r})"
        return ScopeFinding(
            scope, f"department administrator: {shown}{confirmed}", SCOPE_MEANING, tuple(tops)
        )
    unconfirmed = f"; results of the parent department were not refused ({status}), so the list may be cut"
    return ScopeFinding(scope, f"limited list: {shown}{unconfirmed}", SCOPE_MEANING, tuple(tops))
