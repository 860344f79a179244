"""Reading a manifest's YAML safely, keeping the line and column of every key and value.

PyYAML is used only to compose its node tree (`yaml.compose`), never to construct objects from
it: that lets us see duplicate keys, refuse unknown tags, cap alias expansion and keep positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias, cast

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_FILE_BYTES: Final = 1024 * 1024
# A real manifest has a few hundred nodes; this only stops alias bombs ("billion laughs").
MAX_NODES: Final = 100_000
MAX_DEPTH: Final = 64
# Python refuses to turn more than 4300 digits into an int (CVE-2020-10735); anything near that
# is out of every range the platform has (Go int64 at most), so it is refused as written.
MAX_INTEGER_DIGITS: Final = 100

_MAP_TAG: Final = "tag:yaml.org,2002:map"
_SEQ_TAG: Final = "tag:yaml.org,2002:seq"
_MERGE_TAG: Final = "tag:yaml.org,2002:merge"
_INT_TAG: Final = "tag:yaml.org,2002:int"
INT64_MAX: Final = 2**63 - 1

PathPart: TypeAlias = str | int
Path: TypeAlias = tuple[PathPart, ...]

try:  # libyaml's composer is several times faster; both keep node marks.
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


class _Unreadable:
    """A scalar already reported as unreadable: later checks stay quiet about it."""

    def __deepcopy__(self, memo: object) -> _Unreadable:
        return self  # one instance, so `is UNREADABLE` holds after overlays are merged


UNREADABLE: Final = _Unreadable()


@dataclass(frozen=True)
class Located:
    """Where one value sits in the file (1-based), and how its key is written."""

    line: int
    col: int
    key_line: int
    key_col: int
    source: Path
    # The exact text of an unquoted scalar that YAML would turn into a non-string
    # (`8080`, `true`, `2024-01-01`): places that want text use it verbatim.
    plain: str | None = None


@dataclass(frozen=True)
class Problem:
    """A position-aware complaint found while reading the file."""

    line: int
    col: int
    path: Path
    message: str
    detail: str = ""
    # The data cannot be trusted at all (alias bomb, runaway nesting): stop after this.
    fatal: bool = False


@dataclass
class Document:
    """Plain Python data (dicts, lists, scalars) with a position for every path in it."""

    data: object
    positions: dict[Path, Located]


def display_path(path: Path) -> str:
    """`("services", "web", "after", 1)` -> `services.web.after[1]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _line_col_of_byte(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    line_start = before.rfind(b"\n") + 1
    return before.count(b"\n") + 1, len(before[line_start:].decode("utf-8", "replace")) + 1


def decode(raw: bytes) -> tuple[str | None, Problem | None]:
    """The file's text, or the reason it cannot be a manifest (too large, not UTF-8)."""
    if len(raw) > MAX_FILE_BYTES:
        return None, Problem(
            0,
            0,
            (),
            f"the file is {len(raw)} bytes; a manifest may be at most 1 MiB "
            f"({MAX_FILE_BYTES} bytes)",
        )
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line, col = _line_col_of_byte(raw, exc.start)
        return None, Problem(
            line,
            col,
            (),
            f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            "Save the manifest as UTF-8.",
        )


def compose(text: str) -> tuple[Node | None, Problem | None]:
    """The YAML node tree of a single-document file, or the syntax error with its position."""
    try:
        return yaml.compose(text, Loader=_Loader), None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        return None, Problem(line, col, (), f"YAML syntax error: {message or exc}")
    except yaml.reader.ReaderError as exc:  # a control character; libyaml counts UTF-8 bytes
        line, col = _line_col_of_byte(text.encode("utf-8"), exc.position)
        return None, Problem(line, col, (), f"YAML syntax error: {exc.reason}")
    except yaml.YAMLError as exc:  # pragma: no cover - compose raises only the two above
        return None, Problem(0, 0, (), f"YAML syntax error: {exc}")
    except RecursionError:
        return None, Problem(0, 0, (), f"the YAML is nested too deeply (limit {MAX_DEPTH})")


class _Converter:
    """Turns a node tree into plain data, recording positions and problems as it goes."""

    def __init__(self) -> None:
        self.positions: dict[Path, Located] = {}
        self.problems: list[Problem] = []
        self.visited = 0
        self._active: set[int] = set()
        self._constructor = SafeConstructor()

    def fail(
        self, node: Node, path: Path, message: str, detail: str = "", *, fatal: bool = False
    ) -> None:
        mark = node.start_mark
        self.problems.append(Problem(mark.line + 1, mark.column + 1, path, message, detail, fatal))

    def spend(self, node: Node, path: Path) -> bool:
        """Count one more node read; past MAX_NODES, False (and one fatal problem)."""
        self.visited += 1
        if self.visited <= MAX_NODES:
            return True
        if self.visited == MAX_NODES + 1:  # said once, at the first value past the limit
            self.fail(
                node,
                path[:1],  # the deep path of the exploding copy means nothing to a reader
                f"the document expands to more than {MAX_NODES} values",
                "Anchors and aliases (&name / *name) multiply when expanded; "
                "this looks like an alias bomb.",
                fatal=True,
            )
        return False

    def convert(self, node: Node, path: Path, key_mark: tuple[int, int] | None) -> object:
        if not self.spend(node, path):
            return None
        if len(path) > MAX_DEPTH:
            self.fail(node, path[:1], f"nested more than {MAX_DEPTH} levels deep", fatal=True)
            return None
        mark = node.start_mark
        line, col = mark.line + 1, mark.column + 1
        key_line, key_col = key_mark or (line, col)
        if isinstance(node, ScalarNode):
            value = self.scalar(node, path)
            plain = node.value if not node.style and not isinstance(value, str) else None
            self.positions[path] = Located(line, col, key_line, key_col, path, plain)
            return value
        self.positions[path] = Located(line, col, key_line, key_col, path)
        if id(node) in self._active:
            self.fail(node, path, "an alias refers to itself (recursive anchor)", fatal=True)
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ_TAG:
                    self.fail(node, path, f"unsupported YAML tag {node.tag}")
                return [
                    self.convert(item, (*path, index), None)
                    for index, item in enumerate(node.value)
                ]
            if node.tag != _MAP_TAG:  # the third and last kind of node: a mapping
                self.fail(node, path, f"unsupported YAML tag {node.tag}")
            return self.mapping(cast(MappingNode, node), path)
        finally:
            self._active.discard(id(node))

    def scalar(self, node: ScalarNode, path: Path) -> object:
        if node.tag == _INT_TAG and sum(ch.isdigit() for ch in node.value) > MAX_INTEGER_DIGITS:
            digits = sum(ch.isdigit() for ch in node.value)
            self.fail(
                node,
                path,
                f"integer with {digits} digits is out of range (at most {INT64_MAX})",
                "Quote it if it is text.",
            )
            return UNREADABLE
        try:
            value: object = self._constructor.construct_object(node)
        except ConstructorError as exc:
            self.fail(node, path, f"unsupported YAML value: {exc.problem}")
            return None
        except ValueError as exc:  # a number Python will not build; never a traceback
            self.fail(node, path, f"unsupported YAML value: {exc}", "Quote it if it is text.")
            return UNREADABLE
        if isinstance(value, bytes):
            self.fail(node, path, "binary values (!!binary) are not supported")
            return None
        return value

    def mapping(self, node: MappingNode, path: Path) -> dict[str, object]:
        result: dict[str, object] = {}
        first_seen: dict[str, Node] = {}
        merged: list[MappingNode] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == _MERGE_TAG:
                merged.extend(self.merge_sources(value_node, path))
                continue
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, path, "mapping keys must be plain text, not lists or mappings")
                continue
            # Keys are always read as written: `on:` and `1:` are the strings "on" and "1".
            key = key_node.value
            if key in first_seen:
                first = first_seen[key].start_mark
                self.fail(
                    key_node,
                    (*path, key),
                    f"duplicate key {key!r} (first defined at line {first.line + 1})",
                    "YAML keeps only the last of duplicate keys; remove one of them.",
                )
                continue
            first_seen[key] = key_node
            key_mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.convert(value_node, (*path, key), key_mark)
        for key_node, value_node in self.merged_pairs(merged, path, set()):
            key = key_node.value
            if key not in result:
                key_mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                result[key] = self.convert(value_node, (*path, key), key_mark)
        return result

    def merged_pairs(
        self, sources: list[MappingNode], path: Path, seen: set[int]
    ) -> list[tuple[ScalarNode, Node]]:
        """The entries merged sources bring in, in precedence order: each source's own keys,
        then those it merges in itself (YAML merges the source as it reads, merges included).
        A source met again (merged twice, or merging itself) brings nothing new."""
        pairs: list[tuple[ScalarNode, Node]] = []
        for source in sources:
            if id(source) in seen:
                continue
            seen.add(id(source))
            if not self.spend(source, path):
                break
            nested: list[MappingNode] = []
            for key_node, value_node in source.value:
                if isinstance(key_node, ScalarNode) and key_node.tag == _MERGE_TAG:
                    nested.extend(self.merge_sources(value_node, path))
                elif isinstance(key_node, ScalarNode):
                    pairs.append((key_node, value_node))
            pairs += self.merged_pairs(nested, path, seen)
        return pairs

    def merge_sources(self, node: Node, path: Path) -> list[MappingNode]:
        """The mappings a `<<:` merge key brings in, in precedence order."""
        if isinstance(node, MappingNode):
            return [node]
        if isinstance(node, SequenceNode) and all(
            isinstance(item, MappingNode) for item in node.value
        ):
            return [item for item in node.value if isinstance(item, MappingNode)]
        self.fail(node, path, "a merge key (<<) must refer to a mapping or a list of mappings")
        return []


def to_document(root: Node) -> tuple[Document, list[Problem]]:
    """Plain data and positions for a composed node tree, plus every problem found."""
    converter = _Converter()
    try:
        data = converter.convert(root, (), None)
    except RecursionError:
        converter.fail(root, (), f"the YAML is nested too deeply (limit {MAX_DEPTH})", fatal=True)
        data = None
    return Document(data, converter.positions), converter.problems
