"""The last resort: a language told from source file extensions, when no build manifest says it.

Builders accept such apps (a `hello.cbl`, a `main.scm`, a lone `main.py`), so `init` names the
language at low confidence, marks it for confirmation, and looks for a start command by the
language's convention; a Procfile or Dockerfile, read by the engine, comes first.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Final

from opendeploy_plan.analyze.model import Detection, Fact
from opendeploy_plan.analyze.repo import RepoView, relative_to
from opendeploy_plan.analyze.signals import code_files, scan_ports

_EXTENSIONS: Final[dict[str, str]] = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".ts": "typescript",
    ".go": "go",
    ".rb": "ruby",
    ".java": "java",
    ".kt": "kotlin",
    ".cs": "csharp",
    ".rs": "rust",
    ".ex": "elixir",
    ".exs": "elixir",
    ".cob": "cobol",
    ".cbl": "cobol",
    ".scm": "scheme",
    ".ss": "scheme",
    ".sld": "scheme",
    ".rkt": "racket",
    ".hs": "haskell",
    ".cr": "crystal",
    ".zig": "zig",
    ".dart": "dart",
    ".swift": "swift",
    ".nim": "nim",
    ".c": "c",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".lua": "lua",
    ".pl": "perl",
    ".jl": "julia",
    ".ml": "ocaml",
    ".erl": "erlang",
    ".f90": "fortran",
    ".clj": "clojure",
    ".R": "r",
}
# language -> (entry file names, start command template with {file} and {stem}, build template)
_CONVENTIONS: Final[dict[str, tuple[tuple[str, ...], str, str | None]]] = {
    "python": (("main.py", "app.py", "server.py", "bot.py", "run.py"), "python {file}", None),
    "javascript": (("server.js", "index.js", "app.js", "main.js"), "node {file}", None),
    "typescript": (("main.ts", "index.ts", "server.ts"), "npx tsx {file}", None),
    "ruby": (("app.rb", "main.rb", "server.rb"), "ruby {file}", None),
    "go": (("main.go",), "./app", "go build -o app {file}"),
    "cobol": ((), "./{stem}", "cobc -x -o {stem} {file}"),
    "scheme": (("main.scm", "server.scm"), "guile {file}", None),
    "lua": (("main.lua", "app.lua"), "lua {file}", None),
    "perl": (("app.pl", "main.pl"), "perl {file}", None),
    "julia": (("main.jl", "app.jl"), "julia {file}", None),
    "java": (("Main.java", "App.java", "Server.java"), "java {file}", None),
    "c": (("main.c",), "./app", "cc -O2 -o app {file}"),
    "cpp": (("main.cpp", "main.cc"), "./app", "c++ -O2 -o app {file}"),
}
# A lone script for another runtime than Node: `Deno.serve(...)`, `Bun.serve(...)`.
_RUNTIME_HINTS: Final = (
    (
        re.compile(r"\bDeno\.|from\s+[\"'](?:jsr:|https://deno\.land/)"),
        "deno",
        "deno run -A {file}",
    ),
    (re.compile(r"\bBun\.|from\s+[\"']bun:"), None, "bun run {file}"),
)
_PORT_RE: Final = (
    re.compile(
        r"(?i)(?:port|listen|bind|serve)\w*\s*(?:[:=(,]|=>|\s)\s*\(?\s*[\"']?(?:[\w.]*:)?(\d{4,5})\b"
    ),
    re.compile(r"(?:listen|bind)\(\s*[\"'][\w.:]*[\"']\s*,\s*(\d{2,5})\s*\)"),
    # a (host, port) pair: `TCPServer(("", 8000), ...)`
    re.compile(r"\(\s*[\"'][\w.:]*[\"']\s*,\s*(\d{4,5})\s*\)"),
)


def detect_by_extension(view: RepoView, folder: str) -> Detection | None:
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    files = code_files(view, folder, tuple(_EXTENSIONS))
    for rel in files:
        suffix = "." + rel.rsplit(".", 1)[-1]
        language = _EXTENSIONS.get(suffix)
        if language is None:
            continue
        counts[language] += 1
        first.setdefault(language, rel)
    if not counts:
        return None
    language, count = counts.most_common(1)[0]
    detection = Detection(
        language=Fact(
            language,
            first[language],
            f"{count} {language} source file(s) and no build manifest",
            "low",
        ),
        kind="worker",
    )
    own = [f for f in files if _EXTENSIONS.get("." + f.rsplit(".", 1)[-1]) == language]
    convention = _CONVENTIONS.get(language)
    if convention is not None:
        names, start, build = convention
        top = [f for f in own if "/" not in relative_to(folder, f)]
        entry = next((f for n in names for f in top if f.endswith("/" + n) or f == n), None)
        if entry is None and len(top) == 1:
            entry = top[0]
        if entry is not None:
            file = relative_to(folder, entry)
            stem = file.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
            text = view.read(entry) or ""
            for pattern, runtime, command in _RUNTIME_HINTS:
                if language in ("javascript", "typescript") and pattern.search(text):
                    start = command
                    if runtime is not None:
                        detection.language = Fact(runtime, entry, f"{entry} uses Deno", "low")
                    break
            detection.start_command = Fact(
                start.format(file=file, stem=stem), entry, f"{language} convention", "low"
            )
            if build is not None:
                detection.build_command = Fact(
                    build.format(file=file, stem=stem), entry, f"{language} convention", "low"
                )
    detection.ports.extend(scan_ports(view, own, _PORT_RE, "code"))
    if detection.ports:
        detection.kind = "web"
    return detection
