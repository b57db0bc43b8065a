"""Read a YAML file keeping the line of every key, for messages that name file, line and key."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class YamlProblem:
    """One problem in a YAML file: where it is and what is wrong."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file} line {self.line}"
        return f"{where}, key {self.key}: {self.message}" if self.key else f"{where}: " \
            f"{self.message}"


class YamlFileError(ValueError):
    """A YAML file (run configuration or scenario) breaks its schema; lists every problem."""

    def __init__(self, problems: list[YamlProblem]):
        self.problems = list(problems)
        n = len(self.problems)
        lines = [f"  {p}" for p in self.problems]
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in "
                         f"{self.problems[0].file if self.problems else 'a YAML file'}:\n"
                         + "\n".join(lines))


@dataclass(frozen=True)
class Located:
    """A YAML document as plain Python values plus the 1-based line of every key path."""

    value: object
    lines: dict[tuple, int]
    file: str

    def line(self, *path) -> int | None:
        return self.lines.get(tuple(path))


def read_yaml(path: str | os.PathLike) -> Located:
    """Parse a YAML file; syntax errors become a `YamlFileError` naming the line.

    Raises
    ------
    YamlFileError
        If the file is missing or not valid YAML.
    """
    file = Path(path)
    name = str(file)
    if not file.is_file():
        raise YamlFileError([YamlProblem(name, None, "", "no such file")])
    text = file.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise YamlFileError([YamlProblem(name, line, "", f"not valid YAML ({reason})")]) from None
    lines: dict[tuple, int] = {}
    value = _convert(node, (), lines) if node is not None else {}
    return Located(value, lines, name)


def _convert(node, path: tuple, lines: dict[tuple, int]):
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, path + (key,), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), lines) for i, item in enumerate(node.value)]
    try:
        return yaml.safe_load(yaml.serialize(node))
    except ValueError:  # a date-like value that is no date (2027-13-01): keep the text
        return node.value
