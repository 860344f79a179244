"""The long tail, recognised by build files: Clojure, Scala, Haskell, Swift, Dart, Crystal,
Gleam, Zig, C/C++ (CMake, Make) and shell start scripts."""

from __future__ import annotations

import re
from typing import Final

from opendeploy_plan.analyze.model import Detection, Fact
from opendeploy_plan.analyze.repo import RepoView, join, relative_to
from opendeploy_plan.analyze.signals import (
    code_files,
    command_port_candidates,
    default_port,
    scan_ports,
)

# (build file glob, language, package manager, build, start)
_BUILD_FILES: Final[tuple[tuple[str, str, str, str | None, str | None], ...]] = (
    (
        "project.clj",
        "clojure",
        "leiningen",
        "lein uberjar",
        "java -jar target/uberjar/*-standalone.jar",
    ),
    ("deps.edn", "clojure", "clojure-cli", None, "clojure -M -m main"),
    ("build.sbt", "scala", "sbt", "sbt stage", "target/universal/stage/bin/app"),
    ("stack.yaml", "haskell", "stack", "stack build", "stack exec app"),
    ("*.cabal", "haskell", "cabal", "cabal build", "cabal run"),
    ("package.yaml", "haskell", "stack", "stack build", "stack exec app"),
    ("Package.swift", "swift", "swiftpm", "swift build -c release", "swift run -c release"),
    ("pubspec.yaml", "dart", "pub", "dart compile exe bin/server.dart -o server", "./server"),
    ("shard.yml", "crystal", "shards", "shards build --release", None),
    ("gleam.toml", "gleam", "gleam", "gleam export erlang-shipment", "gleam run"),
    ("build.zig", "zig", "zig", "zig build -Doptimize=ReleaseSafe", "./zig-out/bin/app"),
    ("CMakeLists.txt", "cpp", "cmake", "cmake -B build && cmake --build build", None),
    ("meson.build", "cpp", "meson", "meson setup build && meson compile -C build", None),
    ("*.nimble", "nim", "nimble", "nimble build -d:release", None),
)
# (language, dependency marker in the build file, framework, default port or None)
_WEB_MARKERS: Final[tuple[tuple[str, str, str, int | None], ...]] = (
    ("clojure", "ring", "ring", 3000),
    ("clojure", "http-kit", "http-kit", 8080),
    ("clojure", "pedestal", "pedestal", 8080),
    ("scala", "play", "play", 9000),
    ("scala", "http4s", "http4s", 8080),
    ("scala", "akka-http", "akka-http", 8080),
    ("haskell", "servant", "servant", None),
    ("haskell", "scotty", "scotty", None),
    ("haskell", "yesod", "yesod", 3000),
    ("haskell", "warp", "warp", None),
    ("swift", "vapor", "vapor", 8080),
    ("swift", "hummingbird", "hummingbird", 8080),
    ("dart", "dart_frog", "dart_frog", 8080),
    ("dart", "shelf", "shelf", 8080),
    ("dart", "flutter", "flutter", None),
    ("crystal", "kemal", "kemal", 3000),
    ("crystal", "lucky", "lucky", 3000),
    ("gleam", "wisp", "wisp", None),
    ("gleam", "mist", "mist", None),
    ("zig", "httpz", "httpz", None),
    ("nim", "jester", "jester", 5000),
    ("nim", "prologue", "prologue", 8080),
    ("zig", "zap", "zap", 3000),
)
LONG_TAIL_SUFFIXES: Final[dict[str, tuple[str, ...]]] = {
    "clojure": (".clj", ".cljc"),
    "scala": (".scala",),
    "haskell": (".hs",),
    "swift": (".swift",),
    "dart": (".dart",),
    "crystal": (".cr",),
    "gleam": (".gleam",),
    "zig": (".zig",),
    "c": (".c", ".h"),
    "cpp": (".cpp", ".cc", ".hpp"),
    "nim": (".nim",),
}
# A (host, port) pair: `listen("0.0.0.0", 8080)`, `parseIp("0.0.0.0", 8080)`.
_HOST_PORT_RE: Final = re.compile(r"\(\s*[\"'][\w.:]*[\"']\s*,\s*(\d{4,5})\s*\)")
_DB_TOKENS: Final = (
    ("postgres", "postgres"),
    ("mysql", "mysql"),
    ("mariadb", "mysql"),
    ("mongo", "mongodb"),
    ("redis", "redis"),
)
_HASKELL_PORT_RE: Final = re.compile(r"\b(?:scotty|run|Warp\.run)\s+(\d{4,5})\b")
_CODE_PORT_RE: Final = re.compile(
    r"(?:port|PORT|listen|bind|serve|Port)\w*\s*(?:[:=(,]|=>)\s*\(?\s*[\"']?(?:[\w.]*:)?(\d{4,5})\b"
)


def detect_long_tail(view: RepoView, folder: str) -> Detection | None:
    for pattern, language, manager, build, start in _BUILD_FILES:
        matches = sorted(view.glob(folder, pattern)) if "*" in pattern else []
        rel = matches[0] if matches else view.first_existing(folder, pattern)
        if rel is None or "/" in rel[len(folder) + 1 if folder not in ("", ".") else 0 :]:
            continue
        text = view.read(rel) or ""
        if language == "cpp" and not re.search(r"\bCXX\b|\.cpp\b|\.cc\b", text):
            language = "c"
        detection = Detection(
            language=Fact(language, rel, f"{rel.rsplit('/', 1)[-1]} present"),
            package_manager=Fact(manager, rel, f"{rel.rsplit('/', 1)[-1]} present"),
            build_command=Fact(build, rel, f"{manager} build", "low") if build else None,
            start_command=Fact(start, rel, f"{manager} convention", "low") if start else None,
            kind="worker",
        )
        if language == "crystal":
            target = re.search(r"^targets:\s*\n\s+([\w-]+):", text, re.M)
            if target:
                detection.start_command = Fact(
                    f"./bin/{target.group(1)}", rel, "shard.yml target", "medium"
                )
        if manager == "meson" and not re.search(r"project\([^)]*'(?:cpp|c\+\+)'", text):
            detection.language = Fact("c", rel, "meson.build project in C")
        # Where the dependencies are listed: the build file, and for Haskell the package
        # description (package.yaml, *.cabal) beside a stack.yaml that only pins a resolver.
        listings = [(rel, text)]
        if language in ("c", "cpp"):
            target = re.search(r"(?:add_executable|executable)\(\s*['\"]?([\w-]+)", text)
            if target:
                detection.start_command = Fact(
                    f"./build/{target.group(1)}", rel, "executable target", "medium"
                )
        elif language == "zig":
            target = re.search(r"addExecutable\(\.\{[^}]*?\.name\s*=\s*\"([\w-]+)\"", text)
            if target:
                detection.start_command = Fact(
                    f"./zig-out/bin/{target.group(1)}", rel, "addExecutable name", "medium"
                )
        elif language == "haskell":
            hpack = view.read(join(folder, "package.yaml")) or ""
            cabal = next(iter(sorted(view.glob(folder, "*.cabal"))), None)
            cabal_text = (view.read(cabal) if cabal else None) or ""
            listings += [
                (listed, body)
                for listed, body in ((join(folder, "package.yaml"), hpack), (cabal, cabal_text))
                if listed is not None and listed != rel and body
            ]
            exe = re.search(r"^executables:\s*\n\s+([\w-]+):", hpack, re.M) or re.search(
                r"^executable\s+([\w-]+)", cabal_text, re.M
            )
            if exe:
                tool = "stack exec" if manager == "stack" else "cabal run"
                detection.start_command = Fact(
                    f"{tool} {exe.group(1)}", rel, "the package's executable", "medium"
                )
        elif language == "nim":
            target = re.search(r"\bbin\s*=\s*@\[\s*\"([\w-]+)\"", text)
            if target:
                detection.start_command = Fact(f"./{target.group(1)}", rel, "nimble bin", "medium")
        lowered = "\n".join(body for _listed, body in listings).lower()
        for marker_language, marker, framework, port in _WEB_MARKERS:
            if marker_language == language and marker in lowered:
                source = next(listed for listed, body in listings if marker in body.lower())
                detection.framework = Fact(framework, source, f"depends on {marker}")
                detection.kind = "web"
                if framework == "flutter":
                    detection.kind = "static"
                    detection.build_command = Fact("flutter build web", rel, "Flutter web", "low")
                    detection.start_command = None
                    detection.output_directory = "build/web"
                elif port is not None:
                    detection.ports.append(
                        default_port(port, rel, f"{framework}'s documented default port")
                    )
                break
        code = code_files(view, folder, LONG_TAIL_SUFFIXES.get(detection.language.value, ()))
        detection.ports.extend(
            scan_ports(view, code, (_CODE_PORT_RE, _HASKELL_PORT_RE, _HOST_PORT_RE), "code")
        )
        if detection.language.value == "dart" and detection.framework is None:
            script = next(iter(sorted(view.glob(folder, "bin/*.dart"))), None)
            if script is not None:
                detection.build_command = None
                detection.start_command = Fact(
                    f"dart run {relative_to(folder, script)}", script, "Dart script", "medium"
                )
        for token, engine in _DB_TOKENS:
            if token in lowered and all(d.value != engine for d in detection.databases):
                found = next(listed for listed, body in listings if token in body.lower())
                detection.databases.append(Fact(engine, found, f"{token} in {found}", "medium"))
        if detection.kind == "worker" and detection.ports:
            detection.kind = "web"
        if detection.kind == "worker":
            detection.notes.append(
                f"no web framework found in {rel}; treated as a worker unless a port is found"
            )
        return detection
    return _make_or_shell(view, folder)


def _make_or_shell(view: RepoView, folder: str) -> Detection | None:
    makefile = view.first_existing(folder, "Makefile", "makefile", "GNUmakefile")
    if makefile is not None:
        text = view.read(makefile) or ""
        if re.search(r"\$\(CC\)|\bgcc\b|\bclang\b|\$\(CXX\)|\bg\+\+\b", text):
            cpp = bool(re.search(r"\$\(CXX\)|\bg\+\+\b|\.cpp\b", text))
            run_target = re.search(r"^run\s*:", text, re.M)
            return Detection(
                language=Fact("cpp" if cpp else "c", makefile, "Makefile invokes a C compiler"),
                package_manager=Fact("make", makefile, "Makefile present"),
                build_command=Fact("make", makefile, "Makefile present", "medium"),
                start_command=Fact("make run", makefile, "`run` target") if run_target else None,
                kind="worker",
                notes=[] if run_target else [f"{makefile}: no `run` target to start it with"],
            )
    script = view.first_existing(
        folder, "start.sh", "run.sh", "entrypoint.sh", "docker-entrypoint.sh", "bin/start"
    )
    if script is not None:
        name = script[len(folder) + 1 :] if folder not in ("", ".") else script
        body = view.read(script) or ""
        ports = command_port_candidates(Fact(body, script, "start script"))
        return Detection(
            language=Fact("shell", script, "start script"),
            start_command=Fact(f"sh {name}", script, "shell start script", "medium"),
            kind="web" if ports else "worker",
            ports=ports,
        )
    return None
