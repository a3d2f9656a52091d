"""Who reads and changes which settings section, for the Settings pages and /api/settings alike:
Admin every section, Finance only the money ones (Section.money), read only."""
from accounts.access import any_perm, perm
from siteconfig import store
from siteconfig.sections import SECTIONS, Section

VIEW_ALL = "siteconfig.view_value"
VIEW_MONEY = "siteconfig.view_money_settings"
CHANGE = "siteconfig.change_value"
# The URL admits either reader; each view then narrows to the sections the reader may see.
READ = any_perm(VIEW_ALL, VIEW_MONEY)
WRITE = perm(CHANGE)


def may_read(user, declared: Section) -> bool:
    return user.has_perm(VIEW_ALL) or (declared.money and user.has_perm(VIEW_MONEY))


def readable_sections(user) -> list[Section]:
    return [s for s in SECTIONS.values() if may_read(user, s)]


def summary(declared: Section) -> dict[str, int]:
    """How many of the section's settings are saved, from the environment, built-in defaults."""
    counts = {"saved": 0, "environment": 0, "default": 0}
    for item in declared.settings:
        counts[store.source(f"{declared.name}.{item.name}").kind] += 1
    return counts
