"""Read spec files (DomainTraining, GGUFPhase, DomainModelMapping) as JSON-shaped YAML, within limits.

Every reader of manifests (``tara validate``, the ``tara`` verbs that read files, the trainer)
loads through here, so a hostile or broken file fails the same way everywhere: one
``SpecFileError`` whose message is one line naming the file, the line and column where known, and
what to do. Never a traceback, never minutes of CPU or gigabytes of memory.

Why each limit, and where it is enforced:

- ``MAX_FILE_BYTES`` (1 MiB): checked before parsing, on at most that many bytes read. The API
  server stores no object above about 1.5 MiB (etcd's request limit) and our largest manifest
  file is 4 KB, so a real spec file is far below it.
- ``MAX_DEPTH`` (64 nested lists and mappings): a TARA spec is at most 6 levels deep. Checked on
  the parser's events while composing, before Python recursion could overflow, and on what
  aliases expand to (aliases pointing at deep blocks add their depth), so every consumer
  (``json``, ``jsonschema``, pydantic, CEL) stays far from the recursion limit.
- ``MAX_NODES`` (100,000 per file, an alias counting as every node it stands for): a manifest
  has a few hundred nodes; 100,000 compose in about half a second and validate in seconds.
  Aliases are shared while composing, but every consumer walks the expanded tree, so a 1 KB
  "billion laughs" file would expand to billions of nodes. Each alias is charged the expanded
  size of its target, measured as the target was composed, so 7 levels of 10 aliases are refused
  at the alias that crosses the budget, after composing a few dozen nodes, in milliseconds.
  Self-referencing aliases are refused too: a cycle has no JSON form.
- Tags: only what JSON can hold (``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``,
  ``!!seq``, ``!!map``). ``!!binary``, ``!!timestamp``, ``!!set``, ``!!python/...`` and custom
  tags are refused. Untagged dates stay strings (as ``kubectl`` sends them), and mapping keys must
  be strings, so every loaded document is plain JSON data.
- Encoding: UTF-8 (a leading byte-order mark is allowed); other bytes are reported with the line
  and column of the first bad byte.

The loader pairs PyYAML's C event parser (when built with libyaml) with a composer written here,
because the C composer cannot be bounded: it would build the whole node graph first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner


class _PyEventParser(Reader, Scanner, Parser):
    """PyYAML's pure-Python event parser, for PyYAML built without libyaml."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


try:
    from yaml.cyaml import CParser as _EventParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _EventParser = _PyEventParser


__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "SpecFileError",
    "load_spec_documents",
    "load_spec_file",
    "load_spec_text",
    "read_spec_text",
]

MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 64
MAX_NODES = 100_000

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(_CORE + name for name in ("str", "int", "float", "bool", "null", "seq", "map"))
_STRING_KEY_TAGS = frozenset(_CORE + name for name in ("str", "timestamp", "value"))  # dates and "=" stay strings


class SpecFileError(yaml.YAMLError, ValueError):
    """A spec file that cannot be read safely. ``str()`` is one line: ``SOURCE: KIND: line L,
    column C: PROBLEM; HINT``. A ``yaml.YAMLError``, so code that catches YAML errors catches it."""

    def __init__(self, source: str, kind: str, problem: str, *, line: int | None = None,
                 column: int | None = None, hint: str = "") -> None:
        self.source, self.kind, self.problem = source, kind, problem
        self.line, self.column, self.hint = line, column, hint
        super().__init__(str(self))

    @property
    def detail(self) -> str:
        """The message without the source: ``KIND: line L, column C: PROBLEM; HINT``."""
        where = f"line {self.line}, column {self.column}: " if self.line else ""
        hint = f"; {self.hint}" if self.hint else ""
        return f"{self.kind}: {where}{self.problem}{hint}"

    def __str__(self) -> str:
        return f"{self.source}: {self.detail}"


class _Refused(yaml.MarkedYAMLError):
    """A limit or an unsupported construct met while composing; carries what to do."""

    def __init__(self, problem: str, mark: yaml.Mark, hint: str) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.hint = hint


def _shown(value: Any) -> str:
    """A value for a one-line message: its repr, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


class _BoundedComposer(Composer):
    """PyYAML's composer, with depth, node count (aliases expanded), cycles and tags checked per event.

    ``_size`` and ``_height`` hold, per composed node, the node count and nesting height of its
    expanded tree; an alias is charged its target's size and adds its target's height."""

    def __init__(self) -> None:
        super().__init__()
        self._nodes = 0  # per stream: many small documents add up
        self._reset()

    def _reset(self) -> None:  # anchors are per document, and so is what they measure
        self._size: dict[int, int] = {}
        self._height: dict[int, int] = {}
        self._open: set[str] = set()  # anchors of collections still being composed
        self._depth = 0

    def compose_document(self) -> Node:
        self._reset()
        node = super().compose_document()
        self._reset()
        return node

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            self._charge_alias(event)
            return super().compose_node(parent, index)
        if event.tag not in (None, "!") and event.tag not in _ALLOWED_TAGS:
            raise _Refused(f"tag {_short_tag(event.tag)} is not supported", event.start_mark,
                           "remove it: a spec holds only strings, numbers, booleans, null, lists and mappings")
        collection = isinstance(event, CollectionStartEvent)
        if collection:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", event.start_mark,
                               "a spec needs a handful of levels; flatten the document")
            if event.anchor is not None:
                self._open.add(event.anchor)
        node = super().compose_node(parent, index)
        if collection:
            self._depth -= 1
            self._open.discard(event.anchor)
        self._measure(node)
        return node

    def _charge_alias(self, event: AliasEvent) -> None:
        if event.anchor in self._open:
            raise _Refused(f"alias *{event.anchor} refers to the block that contains it", event.start_mark,
                           "a spec cannot be recursive; write the value out")
        target = self.anchors.get(event.anchor)
        if target is None:
            return  # the composer reports the undefined alias
        self._nodes += self._size[id(target)]
        if self._nodes > MAX_NODES:
            raise _Refused(f"alias *{event.anchor} makes the file expand to more than {MAX_NODES:,} nodes",
                           event.start_mark, "write the repeated values out, or alias fewer and smaller blocks")
        if self._depth + self._height[id(target)] > MAX_DEPTH:
            raise _Refused(f"alias *{event.anchor} expands to deeper than {MAX_DEPTH} levels", event.start_mark,
                           "a spec needs a handful of levels; flatten the document")

    def _measure(self, node: Node) -> None:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(f"the file has more than {MAX_NODES:,} nodes", node.start_mark,
                           "a spec has a few hundred; split the file")
        if isinstance(node, SequenceNode):
            children = node.value
        elif isinstance(node, MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            self._size[id(node)], self._height[id(node)] = 1, 0
            return
        self._size[id(node)] = 1 + sum(self._size[id(child)] for child in children)
        self._height[id(node)] = 1 + max((self._height[id(child)] for child in children), default=0)


def _checked(construct: Any, tag: str) -> Any:
    """A constructor that turns a bad value under an explicit tag (``!!int abc``) into a YAML error."""

    def run(self: SafeConstructor, node: Node) -> Any:
        try:
            return construct(self, node)
        except (ValueError, KeyError, OverflowError):  # int() of 5,000 digits, float("x"), !!bool maybe
            raise ConstructorError(None, None, f"{_shown(node.value)} is not a valid {tag}", node.start_mark) from None

    return run


class _JsonConstructor(SafeConstructor):
    """SafeConstructor limited to JSON values: dates stay strings, keys must be strings."""

    yaml_constructors: ClassVar[dict[Any, Any]] = dict(SafeConstructor.yaml_constructors)

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            self.flatten_mapping(node)
            for key, _ in node.value:
                if key.tag not in _STRING_KEY_TAGS:
                    shown = _shown(key.value) if isinstance(key.value, str) else f"a {key.id}"
                    raise _Refused(f"mapping key {shown} is not a string ({_short_tag(key.tag)})", key.start_mark,
                                   "quote it")
        return super().construct_mapping(node, deep=deep)


for _tag in ("timestamp", "value", "merge"):  # plain scalars that only look special: strings, as kubectl reads them
    _JsonConstructor.yaml_constructors[_CORE + _tag] = SafeConstructor.construct_yaml_str
for _tag in ("int", "float", "bool"):
    _JsonConstructor.yaml_constructors[_CORE + _tag] = _checked(SafeConstructor.yaml_constructors[_CORE + _tag], _tag)


def _loader(parser: type) -> type:
    """A loader class: ``parser``'s events, the bounded composer, JSON-only construction."""

    class SpecLoader(_BoundedComposer, parser, _JsonConstructor, Resolver):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str) -> None:
            parser.__init__(self, stream)
            _BoundedComposer.__init__(self)
            _JsonConstructor.__init__(self)
            Resolver.__init__(self)

    return SpecLoader


_SpecLoader = _loader(_EventParser)


def _line_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _yaml_error(exc: yaml.YAMLError, text: str, source: str) -> SpecFileError:
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow (e.g. NUL)
        line, column = _line_column(text, exc.position)
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        return SpecFileError(source, "invalid YAML", f"character U+{code:04X} is not allowed",
                             line=line, column=column, hint="remove it")
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context:
        elsewhere = context_mark and (not mark or (context_mark.line, context_mark.column) != (mark.line, mark.column))
        at = f" at line {context_mark.line + 1}, column {context_mark.column + 1}" if elsewhere else ""
        problem += f" ({context}{at})"
    return SpecFileError(source, "invalid YAML", problem, line=mark.line + 1 if mark else None,
                         column=mark.column + 1 if mark else None, hint=getattr(exc, "hint", ""))


def _too_large(source: str) -> SpecFileError:
    return SpecFileError(source, "too large", f"more than {MAX_FILE_BYTES // 1024} KiB, the limit for a spec file",
                         hint="split it into several files")


def load_spec_text(text: str, source: str) -> list[Any]:
    """Every document of a YAML stream as JSON data; an empty document is ``None``.
    Raises SpecFileError (one line) for broken, unsupported or oversized YAML."""
    if len(text) > MAX_FILE_BYTES:  # before encoding a huge text
        raise _too_large(source)
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # a lone surrogate, from a caller that decoded leniently
        line, column = _line_column(text, exc.start)
        raise SpecFileError(source, "not UTF-8", f"character U+{ord(text[exc.start]):04X} cannot be encoded",
                            line=line, column=column, hint="save the file as UTF-8") from None
    if size > MAX_FILE_BYTES:
        raise _too_large(source)
    text = text.removeprefix("\ufeff")
    try:
        return _load_all(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, source) from None
    except RecursionError:  # pragma: no cover - the depth limit keeps recursion far below this
        raise SpecFileError(source, "invalid YAML", "nested too deeply", hint="flatten the document") from None


def _load_all(text: str) -> list[Any]:
    loader = _SpecLoader(text)  # the pure-Python reader checks characters here
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
        return documents
    finally:
        loader.dispose()


def read_spec_text(path: str | Path) -> str:
    """The file's text, read within ``MAX_FILE_BYTES`` and decoded as UTF-8. Raises SpecFileError."""
    source = str(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SpecFileError(source, "cannot read", str(exc.strerror or exc)) from None
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[:exc.start].decode("utf-8")  # valid up to the first bad byte
        line, column = _line_column(before, len(before))
        raise SpecFileError(source, "not UTF-8", f"byte 0x{data[exc.start]:02x} cannot be decoded",
                            line=line, column=column, hint="save the file as UTF-8") from None


def load_spec_documents(path: str | Path) -> list[Any]:
    """Every document of a spec file (``None`` for empty ones). Raises SpecFileError."""
    return load_spec_text(read_spec_text(path), str(path))


def load_spec_file(path: str | Path) -> Any:
    """The one document of a spec file, as JSON data: a manifest (or a bare spec) is a ``dict``;
    the caller checks the shape, so it can say what it expected. Raises SpecFileError, also when
    the file holds no document or several."""
    documents = [doc for doc in load_spec_documents(path) if doc is not None]
    if len(documents) != 1:
        raise SpecFileError(str(path), "invalid spec", f"the file holds {len(documents)} documents",
                            hint="a spec file holds exactly one manifest")
    return documents[0]
