"""The items of one menu, validated as RouterOS validates them, and the ``print`` queries over them."""
from .menus import Menu

NO_SUCH_ITEM = "no such item"


class Trap(Exception):
    """A refusal, answered as ``!trap =message=…`` followed by ``!done``."""

    def __init__(self, message: str, category: int | None = None):
        super().__init__(message)
        self.message, self.category = message, category


class Table:
    """The items of one menu. Validates like RouterOS on add/set; ``rows()`` renders what print shows."""

    def __init__(self, sim, menu: Menu):
        # sim: the RouterOSSimulator that holds the table (its lock, its other tables, its live values)
        self.sim, self.menu = sim, menu
        self.items: dict[str, dict] = {}
        self.next_id = 1

    # -- the tests' side ---------------------------------------------------------------------

    def rows(self, **query) -> list[dict]:
        """What ``print`` would answer, filtered by equality (underscores in names read as dashes)."""
        with self.sim.lock:
            rows = [self.render(item_id) for item_id in self.items]
        wanted = {dash(key): str(value) for key, value in query.items()}
        return [row for row in rows if all(row.get(key, "") == value for key, value in wanted.items())]

    def insert(self, **props) -> str:
        """Add an item as the router itself would (no validation of read-only fields)."""
        with self.sim.lock:
            return self._store({dash(key): str(value) for key, value in props.items()})

    def delete(self, item_id: str) -> None:
        with self.sim.lock:
            self.items.pop(item_id, None)

    def __len__(self) -> int:
        return len(self.items)

    # -- the API's side ----------------------------------------------------------------------

    def _store(self, props: dict, before: str | None = None) -> str:
        item_id = f"*{self.next_id:X}"
        self.next_id += 1
        item = {name: default for name, default in self.menu.fields.items()}
        item.update(props)
        if before is not None:
            self.items = dict(
                kv for key, value in self.items.items()
                for kv in ([(item_id, item)] if key == before else []) + [(key, value)])
        else:
            self.items[item_id] = item
        return item_id

    def render(self, item_id: str) -> dict:
        item = self.items[item_id]
        row = {} if self.menu.singleton else {".id": item_id}
        for name, value in item.items():
            # RouterOS leaves unset properties out of the reply; "_" marks the simulator's own state.
            if value != "" and not name.startswith("_") and name not in self.menu.write_only:
                row[name] = value
        row.update(self.sim._live(self.menu.path, item))
        return row

    def resolve(self, ref: str) -> list[str]:
        """Item ids from a ``.id``/``numbers`` value: ``*1,*2`` or names."""
        ids = []
        for part in filter(None, ref.split(",")):
            if part in self.items:
                ids.append(part)
                continue
            named = [key for key, item in self.items.items() if item.get("name") == part and "name" in self.menu.fields]
            if not named:
                raise Trap(NO_SUCH_ITEM)
            ids += named
        if not ids:
            raise Trap(NO_SUCH_ITEM)
        return ids

    def clean(self, props: dict, *, adding: bool) -> dict:
        menu = self.menu
        cleaned = {}
        for name, value in props.items():
            if name not in menu.fields or name in menu.read_only:
                raise Trap(f"unknown parameter {name}")
            if name in menu.booleans:
                lowered = value.lower()
                if lowered not in ("yes", "no", "true", "false"):
                    raise Trap(f"input does not match any value of {name}")
                value = "true" if lowered in ("yes", "true") else "false"
            if name in menu.choices and value and any(part not in menu.choices[name] for part in value.split(",")):
                raise Trap(f"input does not match any value of {name}")
            if name in menu.refs and value:
                path, extra = menu.refs[name]
                names = {item.get("name") for item in self.sim.tables[path].items.values()}
                if value not in names and value not in extra:
                    raise Trap(f"input does not match any value of {name}")
            cleaned[name] = value
        if adding:
            missing = [name for name in menu.required if not cleaned.get(name)]
            if missing:
                raise Trap("missing value(s) of argument(s) " + " ".join(missing))
        return cleaned

    def check_unique(self, props: dict, item_id: str | None = None) -> None:
        for names in (self.menu.unique, self.menu.unique_also):
            if not names:
                continue
            key = tuple(props.get(name, self.menu.fields[name]) for name in names)
            if not any(key):
                continue
            for other_id, other in self.items.items():
                if other_id != item_id and tuple(other.get(name, "") for name in names) == key:
                    raise Trap(self.menu.duplicate)


def dash(name: str) -> str:
    """Python keyword names to RouterOS property names; a leading "_" marks the simulator's own state."""
    return name if name.startswith("_") else name.replace("_", "-")


def select(rows: list[dict], attrs: dict, queries: list[str]) -> list[dict]:
    if queries:
        rows = [row for row in rows if matches(row, queries)]
    proplist = attrs.get(".proplist")
    if proplist:
        wanted = proplist.split(",")
        rows = [{name: row[name] for name in wanted if name in row} for row in rows]
    return rows


def matches(row: dict, queries: list[str]) -> bool:
    """RouterOS query words: a stack of booleans, ANDed at the end."""
    stack: list[bool] = []
    for word in queries:
        body = word[1:]
        if body.startswith("#"):
            for op in body[1:]:
                if op == "!":
                    stack.append(not stack.pop())
                elif op in "&|":
                    right, left = stack.pop(), stack.pop()
                    stack.append(left and right if op == "&" else left or right)
                elif op == ".":
                    stack.append(stack[-1])
                elif op.isdigit():
                    stack.append(stack[int(op)])
            continue
        if body.startswith("-"):
            stack.append(body[1:] not in row)
        elif body[:1] in "<>" and "=" in body:
            name, _, value = body[1:].partition("=")
            have = row.get(name, "")
            try:
                left, right = float(have), float(value)
            except ValueError:
                left, right = have, value
            stack.append(left < right if body[0] == "<" else left > right)
        elif "=" in body:
            name, _, value = body.partition("=")
            have = row.get(name, "")
            if value.lower() in ("yes", "no") and have in ("true", "false"):
                value = "true" if value.lower() == "yes" else "false"
            stack.append(have == value)
        else:
            stack.append(body in row)
    return all(stack)


def free_name(table: Table, prefix: str) -> str:
    names = {item.get("name") for item in table.items.values()}
    n = 1
    while f"{prefix}{n}" in names:
        n += 1
    return f"{prefix}{n}"
