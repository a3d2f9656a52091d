"""The commands every menu takes: print (queries, ``.proplist``, ``count-only``), add, set, remove,
enable, disable and unset; and ``_dispatch``, which routes a command word to them or to the
system commands, ``/cancel`` and ``/quit``."""
import asyncio

from .menus import MENU_BY_PATH, PREFIXES, noun
from .session import Connection, Disconnect
from .table import Table, Trap, free_name, select


class MenuCommands:
    """Part of RouterOSSimulator: command routing and the menu commands."""

    def _dispatch(self, conn: Connection, command: str, attrs: dict, queries: list[str]):
        """(rows, done attributes), a Stream, or raises Trap/Disconnect. Runs under the lock."""
        if command == "/cancel":
            wanted = attrs.get("tag")
            for task, tag in list(conn.tasks.items()):
                if task is not asyncio.current_task() and (wanted is None or tag == wanted):
                    task.cancel()
            return [], {}
        if command == "/quit":
            raise Disconnect([["!fatal", "session terminated on request"]])
        if command == "/system/reboot":
            self._log("system,info", f"system rebooted by {conn.user}")
            raise Disconnect([], reboot=True)
        if command == "/system/resource/print":
            return select([self._resource()], attrs, queries), {}
        if command == "/interface/monitor-traffic":
            return self._monitor_traffic(attrs)
        if command == "/system/backup/save":
            return self._backup_save(conn, attrs)
        if command == "/system/backup/load":
            return self._backup_load(conn, attrs)
        if command == "/import":
            return self._import(conn, attrs)
        path, _, verb = command.rpartition("/")
        menu = MENU_BY_PATH.get(path)
        if menu is None:
            raise Trap("no such command" if path in PREFIXES or command in PREFIXES else "no such command prefix")
        if verb not in menu.commands:
            raise Trap("no such command")
        return getattr(self, f"_{verb}")(conn, self.tables[path], attrs, queries)

    def _print(self, conn, table: Table, attrs: dict, queries: list[str]):
        rows = select([table.render(item_id) for item_id in table.items], attrs, queries)
        if "count-only" in attrs:
            return [], {"ret": str(len(rows))}
        return rows, {}

    def _add(self, conn, table: Table, attrs: dict, queries):
        menu = table.menu
        before = attrs.pop("place-before", None)
        if before is not None and not menu.ordered:
            raise Trap("unknown parameter place-before")
        props = table.clean(attrs, adding=True)
        if menu.added_disabled:
            props.setdefault("disabled", "true")
        if menu.auto_name and not props.get("name"):
            props["name"] = free_name(table, menu.auto_name)
        table.check_unique(props)
        if before is not None:
            before = table.resolve(before)[0]
        props.update(self._derived(menu.path, props))
        item_id = table._store(props, before)
        if menu.interface_type:
            self._mirror_interface(menu, table.items[item_id])
        self._after_change(menu.path)
        self._log("system,info", f"{noun(menu)} added by {conn.user}")
        return [], {"ret": item_id}

    def _set(self, conn, table: Table, attrs: dict, queries):
        menu = table.menu
        ref = attrs.pop(".id", None) or attrs.pop("numbers", None)
        props = table.clean(attrs, adding=False)
        if menu.singleton:
            if not table.items:
                table._store({})
            ids = list(table.items)
        else:
            if ref is None:
                raise Trap("missing value(s) of argument(s) numbers")
            ids = table.resolve(ref)
        for item_id in ids:
            item = table.items[item_id]
            old_name = item.get("name")
            table.check_unique({**item, **props}, item_id)
            item.update(props)
            item.update(self._derived(menu.path, item))
            if menu.interface_type:
                self._mirror_interface(menu, item, old_name)
        self._after_change(menu.path)
        self._log("system,info", f"{noun(menu)} changed by {conn.user}")
        return [], {}

    def _remove(self, conn, table: Table, attrs: dict, queries):
        menu = table.menu
        ref = attrs.get(".id") or attrs.get("numbers")
        if ref is None:
            raise Trap("missing value(s) of argument(s) numbers")
        for item_id in table.resolve(ref):
            item = table.items.pop(item_id)
            if menu.interface_type:
                interfaces = self.tables["/interface"]
                for key in [k for k, v in interfaces.items.items() if v.get("name") == item.get("name")]:
                    del interfaces.items[key]
            if menu.path == "/ip/hotspot/active":
                self._log("hotspot,account,info,debug", f"{item['user']} ({item['address']}): logged out: admin reset")
            if menu.path == "/ppp/active":
                self._ppp_gone(item)
            if menu.path == "/file":
                self.backups.pop(item["name"], None)
            if menu.path == "/interface/bridge":  # its ports go with it
                ports = self.tables["/interface/bridge/port"].items
                for key in [k for k, v in ports.items() if v.get("bridge") == item.get("name")]:
                    del ports[key]
        self._after_change(menu.path)
        self._log("system,info", f"{noun(menu)} removed by {conn.user}")
        return [], {}

    def _enable(self, conn, table, attrs, queries):
        return self._set(conn, table, {**_only_ref(attrs), "disabled": "no"}, queries)

    def _disable(self, conn, table, attrs, queries):
        return self._set(conn, table, {**_only_ref(attrs), "disabled": "yes"}, queries)

    def _unset(self, conn, table, attrs, queries):
        name = attrs.get("value-name", "")
        if name not in table.menu.fields or name in table.menu.read_only:
            raise Trap(f"unknown parameter {name}" if name else "missing value(s) of argument(s) value-name")
        ids = list(table.items) if table.menu.singleton else table.resolve(attrs.get(".id") or attrs.get("numbers", ""))
        for item_id in ids:
            table.items[item_id][name] = table.menu.fields[name]
        return [], {}


def _only_ref(attrs: dict) -> dict:
    return {key: value for key, value in attrs.items() if key in (".id", "numbers")}
