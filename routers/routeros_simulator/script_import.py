"""``/import``: run a ``.rsc`` file from ``/file`` as a router does (the whole file parsed first, then
line by line, the first refusal stopping it), in the subset ``script_parser`` reads."""
from . import script_parser
from .menus import MENU_BY_PATH
from .session import Stream
from .table import Trap, matches


class ScriptImport:
    """Part of RouterOSSimulator: the ``/import`` command."""

    def _import(self, conn, attrs: dict):
        unknown = sorted(set(attrs) - {"file-name"})
        if unknown:
            raise Trap(f"unknown parameter {unknown[0]}")
        name = attrs.get("file-name", "")
        if not name:
            raise Trap("missing value(s) of argument(s) file-name")
        item = next((item for item in self.tables["/file"].items.values() if item["name"] == name), None)
        if item is None:
            raise Trap("failure: no such file")
        try:
            lines = script_parser.parse(item.get("contents", ""))
        except script_parser.ScriptError as error:
            raise Trap(error.message) from None
        for line in lines:  # a router parses the whole file before running any of it
            if line.menu not in MENU_BY_PATH:
                raise Trap(f"bad command name {line.menu} (line {line.number})")
        for line in lines:
            try:
                self._run_statement(conn, line.menu, line.statement)
            except Trap as trap:
                self._log("system,error", f"script {name} failed at line {line.number}: {trap.message}")
                raise Trap(f"{trap.message} (line {line.number})", trap.category) from None
        self._log("system,info", f"script {name} imported by {conn.user}")
        return [], {}

    def _run_statement(self, conn, menu: str, statement) -> None:
        if isinstance(statement, script_parser.If):
            count = len(self._script_find(menu, statement.find))
            holds = count == statement.number if statement.op == "=" else count > statement.number
            branch = statement.then if holds else statement.otherwise
            if branch is not None:
                self._run_statement(conn, menu, branch)
            return
        args = {}
        for key, value in statement.args.items():
            if isinstance(value, script_parser.Pick):
                found = self._script_find(menu, value.find)
                if not found:
                    raise Trap(f"invalid value for argument {key}")
                value = found[0]
            args[key] = value
        if isinstance(statement.target, script_parser.Find):
            ids = self._script_find(menu, statement.target)
            if not ids:  # set/remove on an empty list does nothing, as on a router
                return
            args[".id"] = ",".join(ids)
        elif statement.target is not None:
            args["numbers"] = statement.target
        result = self._dispatch(conn, f"{menu}/{statement.verb}", args, [])
        if isinstance(result, Stream):
            raise Trap("failure: a streaming command cannot run from a script")

    def _script_find(self, menu: str, find) -> list[str]:
        table = self.tables[menu]
        # A script writes booleans as yes/no; the API shows them as true/false.
        queries = [f"?{key}={ {'yes': 'true', 'no': 'false'}.get(value, value)}" for key, value in find.where.items()]
        return [item_id for item_id in table.items if matches(table.render(item_id), queries)]
