"""YAML configs given with ``--config``, checked before any parser reads them: bounded, UTF-8, and small once expanded.

jsonargparse reads a config whole and expands every YAML alias: ``--config /dev/zero`` reads until memory runs
out, and a "billion laughs" file (nine aliases of nine aliases...) expands to 10⁹ strings and hangs. So every
``--config`` is read here first, at most ``MAX_CONFIG_BYTES`` of it, decoded as UTF-8, and composed (aliases
are references then, not copies) to count the nodes it would expand to.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from .errors import ConfigError

MAX_CONFIG_BYTES = 1 << 20
"""A config is a few KB; a MiB is far beyond any real one."""
MAX_EXPANDED_NODES = 100_000
"""Values, keys and containers once every alias is expanded: a real config has some hundreds."""
CONFIG_OPTIONS = ("--config", "-c")


def config_values(argv: Sequence[str]) -> list[str]:
    """The values given to ``--config`` (or ``-c``, or ``--config=...``), in order."""
    values, arguments = [], list(argv)
    for n, argument in enumerate(arguments):
        name, equals, inline = argument.partition("=")
        if name in CONFIG_OPTIONS and equals:
            values.append(inline)
        elif argument in CONFIG_OPTIONS and n + 1 < len(arguments):
            values.append(arguments[n + 1])
    return values


def config_text(value: str) -> str:
    """The YAML a ``--config`` value stands for: the file it names, else the value itself (jsonargparse reads
    a value that names no file as YAML)."""
    path = Path(value)
    try:
        if "\n" in value or not path.exists():
            return value
    except OSError:  # a name too long for a file: YAML text
        return value
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except IsADirectoryError:
        raise ConfigError(f"--config {value} is a folder; give a YAML file (configs/debug.yaml...)") from None
    except OSError as exc:
        raise ConfigError(f"--config {value}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"--config {value} is over {MAX_CONFIG_BYTES >> 20} MiB, and a config is a few KB; give "
                          f"a YAML config (configs/debug.yaml...)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"--config {value} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                          f"{exc.start}); save it as UTF-8") from None


def expanded_size(node: yaml.Node, name: str) -> int:
    """The nodes ``node`` stands for with every alias expanded (shared nodes are counted where each is used)."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def walk(current: yaml.Node) -> int:
        key = id(current)
        if key in sizes:
            return sizes[key]
        if key in visiting:
            raise ConfigError(f"--config {name}: a YAML alias contains itself; remove the recursive alias")
        visiting.add(key)
        total = 1
        if isinstance(current, yaml.SequenceNode):
            total += sum(walk(child) for child in current.value)
        elif isinstance(current, yaml.MappingNode):
            total += sum(walk(k) + walk(v) for k, v in current.value)
        visiting.discard(key)
        sizes[key] = min(total, MAX_EXPANDED_NODES + 1)  # capped: the count itself stays small
        return sizes[key]

    return walk(node)


def check_config(value: str) -> str:
    """The text of one ``--config`` value, refused in one line when it is too big, not UTF-8, or expands too far."""
    text = config_text(value)
    if text is value:  # YAML on the command line, maybe of many lines: not repeated in the error
        value = "(YAML given as text)"
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return text  # not YAML: the parser reports it in its words
    except RecursionError:
        raise ConfigError(f"--config {value}: nests too deep to read; a config is a few levels deep") from None
    try:
        expanded = sum(expanded_size(node, value) for node in nodes if node is not None)
    except RecursionError:
        raise ConfigError(f"--config {value}: nests too deep to read; a config is a few levels deep") from None
    if expanded > MAX_EXPANDED_NODES:
        raise ConfigError(f"--config {value}: its YAML aliases expand to over {MAX_EXPANDED_NODES:,} values (an alias "
                          f"bomb?); a config needs some hundreds: write the values out, or alias less")
    return text


def check_config_arguments(argv: Sequence[str]) -> None:
    """Every ``--config`` of a command line, checked before LightningCLI reads them."""
    for value in config_values(argv):
        check_config(value)


def load_config(value: str):
    """A ``--config`` value, checked, as Python values (``yaml.safe_load``); None where it is not YAML."""
    text = check_config(value)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None
