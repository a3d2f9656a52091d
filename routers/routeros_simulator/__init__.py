"""A MikroTik router stand-in speaking the RouterOS API wire protocol over TCP, for the tests and the demo.

Each ``RouterOSSimulator`` listens on its own port; all of them in a process share one asyncio event
loop in one thread, so hundreds cost a socket each, not a thread each. The protocol is the real one:
length-prefixed words, sentences ended by an empty word, ``/login`` (plain text as RouterOS >= 6.43,
and the old MD5 challenge), ``!re`` / ``!done`` / ``!trap`` / ``!fatal`` (and ``!empty`` from 7.18),
``.tag`` echoed on every reply, ``?`` queries with ``?#`` operations, ``=.proplist=``, ``/cancel``,
``/file/add`` with ``contents`` (RouterOS 7).
Behind it an in-memory router seeded like a fresh hAP with a hotspot on ``bridge``.

Told what goes wrong: ``latency_ms`` before every reply, ``dead="silent"`` (accepts, never answers)
or ``dead="refused"`` (nothing listens), ``refuse={command: message}`` (a ``!trap``), ``hang`` (a
command never answered), ``drop`` (the connection closes on a command), and reboot (connections
drop, the port refuses for ``reboot_seconds``, then it is back with its uptime reset).

Tests read and change the router directly: ``sim.table("/ip/hotspot/active").rows()``,
``sim.login_hotspot("254712345678")``, ``sim.reboot()``, ``sim.set_dead("silent")``.
Trap messages follow what RouterOS answers where known; where not, they are plausible stand-ins
(adapters must only rely on a ``!trap`` being a refusal, never on its wording).

Where things are: ``wire`` (the word and sentence encoding), ``menus`` (what each menu accepts),
``table`` (a menu's items, validation, print queries), ``seed`` (a fresh router's configuration),
``router`` (``RouterOSSimulator``: settings, state, what tests do to it), ``server`` (the shared event
loop, the port, TLS, reboots), ``session`` (one connection: login, commands, replies), ``commands``
(print/add/set/remove…), ``system`` (resource, traffic, backups), ``script_import`` and
``script_parser`` (``/import`` of a ``.rsc`` file), ``clock`` (RouterOS dates and durations).
"""
from .router import RouterOSSimulator, start_fleet, stop_fleet
from .table import Table, Trap
from .wire import ProtocolError, decode_length, encode_length, encode_sentence

__all__ = ["ProtocolError", "RouterOSSimulator", "Table", "Trap", "decode_length", "encode_length", "encode_sentence",
           "start_fleet", "stop_fleet"]
