"""Reading a TOML input file with the project's one-line errors (scenarios, fault plans)."""
from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path


def read_toml(path: Path, error: type[Exception], not_found: str, invalid: Callable[[Exception], str]) -> dict:
    """The parsed TOML at ``path``. A missing file raises ``error(not_found)``; a file that is not TOML
    raises ``error(invalid(exc))``, given the parser's exception (its message has the line and column)."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise error(not_found) from None
    except tomllib.TOMLDecodeError as exc:
        raise error(invalid(exc)) from None
