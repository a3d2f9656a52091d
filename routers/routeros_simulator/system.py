"""The router's own values and system commands: ``/system/resource``, interface traffic (counters
that grow and ``/interface/monitor-traffic``), and configuration backups (save and load)."""
import copy
import math
import time

from .clock import clock, format_duration
from .session import Disconnect, Stream
from .table import Trap


class SystemCommands:
    """Part of RouterOSSimulator: the system commands and the values that move with time."""

    def _monitor_traffic(self, attrs: dict):
        names = [name for name in attrs.get("interface", "").split(",") if name]
        if not names:
            raise Trap("missing value(s) of argument(s) interface")
        interfaces = self.tables["/interface"]
        found = []
        for name in names:
            match = next((item for item in interfaces.items.values() if item["name"] == name), None)
            if match is None:
                raise Trap("input does not match any value of interface")
            found.append(match)

        def rows():
            now = self.uptime
            out = []
            for section, item in enumerate(found):
                rx, tx = (_rate(item, "_rx", now) * 8, _rate(item, "_tx", now) * 8) if item["running"] == "true" \
                    else (0, 0)
                out.append({".section": str(section), "name": item["name"],
                            "rx-packets-per-second": str(int(rx / 8 / 900)), "rx-bits-per-second": str(int(rx)),
                            "fp-rx-packets-per-second": "0", "fp-rx-bits-per-second": "0",
                            "rx-drops-per-second": "0", "rx-errors-per-second": "0",
                            "tx-packets-per-second": str(int(tx / 8 / 900)), "tx-bits-per-second": str(int(tx)),
                            "fp-tx-packets-per-second": "0", "fp-tx-bits-per-second": "0",
                            "tx-drops-per-second": "0", "tx-queue-drops-per-second": "0", "tx-errors-per-second": "0"})
            return out

        if "once" in attrs and attrs["once"].lower() not in ("no", "false"):
            return rows(), {}
        return Stream(rows)

    def _backup_save(self, conn, attrs: dict):
        unknown = set(attrs) - {"name", "password", "dont-encrypt", "encryption"}
        if unknown:
            raise Trap(f"unknown parameter {sorted(unknown)[0]}")
        identity = next(iter(self.tables["/system/identity"].items.values()))["name"]
        name = attrs.get("name") or f"{identity}-{time.strftime('%Y%m%d-%H%M')}"
        filename = name if name.endswith(".backup") else f"{name}.backup"
        snapshot = {path: (copy.deepcopy(table.items), table.next_id) for path, table in self.tables.items()
                    if not table.menu.dynamic and path != "/file"}
        self.backups[filename] = {"snapshot": snapshot, "password": attrs.get("password", "")}
        files = self.tables["/file"]
        for key in [k for k, v in files.items.items() if v["name"] == filename]:
            del files.items[key]
        size = 20_000 + 180 * sum(len(items) for items, _ in snapshot.values())
        files._store({"name": filename, "type": "backup", "size": str(size), "creation-time": clock(time.time()),
                      "last-modified": clock(time.time())})
        self._log("system,info", f"configuration backup saved by {conn.user}")
        return [], {}

    def _backup_load(self, conn, attrs: dict):
        name = attrs.get("name", "")
        if not name:
            raise Trap("missing value(s) of argument(s) name")
        filename = name if name in self.backups else f"{name}.backup"
        backup = self.backups.get(filename)
        if backup is None:
            raise Trap("failure: no such file")
        if backup["password"] and attrs.get("password", "") != backup["password"]:
            raise Trap("failure: wrong password")
        for path, (items, next_id) in backup["snapshot"].items():
            self.tables[path].items = copy.deepcopy(items)
            self.tables[path].next_id = next_id
        self._log("system,info", f"configuration restored by {conn.user}, rebooting")
        raise Disconnect([], reboot=True)

    def _resource(self) -> dict:
        now = self.uptime
        total = 128 * 1024 * 1024
        load = int(6 + 5 * math.sin(now / 11 + self._phase) + self.rng.random() * 3)
        used = int(total * (0.32 + 0.02 * math.sin(now / 37 + self._phase)))
        return {
            "uptime": format_duration(now), "version": self.version, "build-time": "2024-11-18 11:34:46",
            "factory-software": "6.41", "free-memory": str(total - used), "total-memory": str(total),
            "cpu": "ARMv7", "cpu-count": "4", "cpu-frequency": "716", "cpu-load": str(max(load, 0)),
            "free-hdd-space": "2179072", "total-hdd-space": "16777216", "write-sect-since-reboot": "312",
            "write-sect-total": "84210", "bad-blocks": "0", "architecture-name": self.architecture,
            "board-name": self.board_name, "platform": "MikroTik",
        }

    def _live(self, path: str, item: dict) -> dict:
        """Values that move with time, computed when printed."""
        if path == "/interface" and "_rx_mean" in item:
            # A PPP session's dynamic interface counts from its login; the others since boot.
            now = time.monotonic() - float(item["_since"]) if "_since" in item else self.uptime
            rx, tx = int(_bytes(item, "_rx", now)), int(_bytes(item, "_tx", now))
            return {"rx-byte": str(rx), "tx-byte": str(tx), "rx-packet": str(rx // 900),
                    "tx-packet": str(tx // 900), "fp-rx-byte": str(rx // 3), "fp-tx-byte": str(tx // 3),
                    "fp-rx-packet": str(rx // 2700), "fp-tx-packet": str(tx // 2700)}
        if path == "/ip/hotspot/active":
            elapsed = time.monotonic() - float(item["_since"])
            bytes_in, bytes_out = int(elapsed * float(item["_rate_in"])), int(elapsed * float(item["_rate_out"]))
            return {"uptime": format_duration(elapsed), "bytes-in": str(bytes_in), "bytes-out": str(bytes_out),
                    "packets-in": str(bytes_in // 700), "packets-out": str(bytes_out // 1100)}
        if path == "/ppp/active":
            return {"uptime": format_duration(time.monotonic() - float(item["_since"]))}
        return {}


# Traffic: rate(t) = mean * (1 + A sin(t/P + phase)); bytes are its integral, so counters and the
# monitor's bits per second agree and counters only ever grow.
_AMPLITUDE, _PERIOD = 0.35, 20.0


def _rate(item: dict, side: str, t: float) -> float:
    return float(item[side + "_mean"]) * (1 + _AMPLITUDE * math.sin(t / _PERIOD + float(item[side + "_phase"])))


def _bytes(item: dict, side: str, t: float) -> float:
    phase = float(item[side + "_phase"])
    return float(item[side + "_mean"]) * (t + _AMPLITUDE * _PERIOD * (math.cos(phase) - math.cos(t / _PERIOD + phase)))
