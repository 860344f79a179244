"""Java/Kotlin (Maven, Gradle: Spring Boot, Quarkus), .NET (*.csproj) and Elixir (mix.exs)."""

from __future__ import annotations

import re
from typing import Final

from opendeploy_plan.analyze.model import Detection, Fact
from opendeploy_plan.analyze.repo import RepoView, join, relative_to
from opendeploy_plan.analyze.signals import (
    DATABASE_DRIVERS,
    code_files,
    default_port,
    line_of,
    scan_ports,
)

_SPRING_PORT_PATTERNS: Final = (
    re.compile(r"^\s*server\.port\s*[=:]\s*(?:\$\{PORT:)?(\d{2,5})", re.M),
    re.compile(r"^\s*quarkus\.http\.port\s*[=:]\s*(?:\$\{PORT:)?(\d{2,5})", re.M),
    re.compile(r"^server:\s*\n\s+port:\s*(?:\$\{PORT:)?(\d{2,5})", re.M),
)


def _db_from_text(text: str, file: str) -> list[Fact]:
    found: list[Fact] = []
    lowered = text.lower()
    for db_type, drivers in DATABASE_DRIVERS.items():
        for driver in drivers:
            if ":" in driver or "." in driver:
                group_artifact = driver.split(":")[-1]
                if group_artifact in lowered:
                    found.append(Fact(db_type, file, f"depends on {group_artifact}"))
                    break
    return found


def detect_jvm(view: RepoView, folder: str) -> Detection | None:
    build = view.first_existing(folder, "pom.xml", "build.gradle.kts", "build.gradle")
    if build is None:
        return None
    text = view.read(build) or ""
    maven = build.endswith("pom.xml")
    kotlin = (
        "kotlin" in text.lower() and ("org.jetbrains.kotlin" in text or 'kotlin("' in text)
    ) or any(f.startswith(join(folder, "src/main/kotlin/")) for f in view.under(folder))
    detection = Detection(
        language=Fact(
            "kotlin" if kotlin else "java", build, "Kotlin plugin" if kotlin else "JVM build"
        ),
        package_manager=Fact("maven" if maven else "gradle", build, f"{build.rsplit('/', 1)[-1]}"),
    )
    wrapper = view.first_existing(folder, "mvnw" if maven else "gradlew")
    if maven:
        tool = "./mvnw" if wrapper else "mvn"
        detection.build_command = Fact(f"{tool} -DskipTests package", build, "Maven", "medium")
        detection.start_command = Fact("java -jar target/*.jar", build, "Maven jar", "medium")
    else:
        tool = "./gradlew" if wrapper else "gradle"
        detection.build_command = Fact(f"{tool} build -x test", build, "Gradle", "medium")
        detection.start_command = Fact("java -jar build/libs/*.jar", build, "Gradle jar", "medium")
    if "spring-boot" in text:
        detection.framework = Fact("spring-boot", build, "Spring Boot plugin or starter")
        detection.ports.append(default_port(8080, build, "Spring Boot listens on 8080"))
    elif "io.quarkus" in text or "quarkus" in text.lower():
        detection.framework = Fact("quarkus", build, "Quarkus platform")
        detection.ports.append(default_port(8080, build, "Quarkus listens on 8080"))
        detection.start_command = Fact(
            "java -jar target/quarkus-app/quarkus-run.jar"
            if maven
            else "java -jar build/quarkus-app/quarkus-run.jar",
            build,
            "Quarkus fast-jar layout",
            "medium",
        )
    elif "micronaut" in text:
        detection.framework = Fact("micronaut", build, "Micronaut")
        detection.ports.append(default_port(8080, build, "Micronaut listens on 8080"))
    else:
        for marker, name, port in _JVM_WEB_MARKERS:
            if marker in text.lower():
                detection.framework = Fact(name, build, f"depends on {marker}")
                detection.ports.append(default_port(port, build, f"{name}'s default port"))
                break
        else:
            detection.kind = "worker"
    sources = code_files(view, folder, (".java", ".kt", ".scala", ".groovy"))
    detection.ports.extend(scan_ports(view, sources, _JVM_CODE_PORTS, "code"))
    configs = [
        f
        for f in view.under(folder)
        if re.search(r"src/main/resources/application[^/]*\.(properties|ya?ml)$", f)
    ]
    detection.ports.extend(scan_ports(view, configs, _SPRING_PORT_PATTERNS, "config"))
    if "spring-boot-starter-actuator" in text:
        detection.health_check_path = Fact(
            "/actuator/health", build, "spring-boot-starter-actuator"
        )
    elif "quarkus-smallrye-health" in text:
        detection.health_check_path = Fact("/q/health", build, "quarkus-smallrye-health")
    if detection.kind == "worker" and detection.ports:
        detection.kind = "web"
    detection.databases.extend(_db_from_text(text, build))
    for config in configs:
        body = view.read(config) or ""
        for pattern, engine in _JVM_CONFIG_DATABASES:
            match = pattern.search(body)
            if match and all(d.value != engine for d in detection.databases):
                detection.databases.append(
                    Fact(engine, line_of(view, config, match.start()), "datasource URL")
                )
    for starter, engine in (
        ("spring-boot-starter-data-mongodb", "mongodb"),
        ("spring-boot-starter-data-redis", "redis"),
        ("quarkus-jdbc-postgresql", "postgres"),
        ("quarkus-jdbc-mysql", "mysql"),
        ("quarkus-redis", "redis"),
        ("quarkus-mongodb", "mongodb"),
    ):
        if starter in text and all(d.value != engine for d in detection.databases):
            detection.databases.append(Fact(engine, build, f"depends on {starter}"))
    return detection


# (marker in the build file, framework, default port) for JVM servers besides Spring/Quarkus.
_JVM_WEB_MARKERS: Final = (
    ("io.javalin", "javalin", 8080),
    ("io.ktor", "ktor", 8080),
    ("io.vertx", "vertx", 8080),
    ("com.sparkjava", "spark", 4567),
    ("io.helidon", "helidon", 8080),
    ("io.dropwizard", "dropwizard", 8080),
    ("org.http4k", "http4k", 8080),
    ("org.eclipse.jetty", "jetty", 8080),
)
_JVM_CODE_PORTS: Final = (
    re.compile(r"new\s+InetSocketAddress\(\s*(?:\"[^\"]*\"\s*,\s*)?(\d{2,5})\s*\)"),
    re.compile(r"\.start\(\s*(\d{2,5})\s*\)"),
    re.compile(r"new\s+(?:Server|ServerSocket)\(\s*(\d{2,5})\s*\)"),
    re.compile(r"\bport\s*=\s*(\d{2,5})\b"),
    re.compile(r"getenv\(\s*\"PORT\"\s*\)[^;]{0,60}?\"(\d{2,5})\""),
)
_JVM_CONFIG_DATABASES: Final = (
    (re.compile(r"jdbc:(?:postgresql|pgsql):"), "postgres"),
    (re.compile(r"jdbc:(?:mysql|mariadb):"), "mysql"),
    (re.compile(r"mongodb(?:\+srv)?://|spring\.data\.mongodb"), "mongodb"),
    (re.compile(r"spring\.(?:data\.)?redis\."), "redis"),
)


def detect_dotnet(view: RepoView, folder: str) -> Detection | None:
    suffixes = (".csproj", ".fsproj", ".vbproj")
    projects = sorted(f for f in view.in_folder(folder) if f.endswith(suffixes))
    nested = False
    if not projects and view.glob(folder, "*.sln"):
        # A solution at the root with its projects in subfolders: the web project is the app;
        # test projects are not.
        projects = sorted(
            (
                f
                for f in view.under(folder)
                if f.endswith(suffixes)
                and relative_to(folder, f).count("/") <= 3
                and not re.search(r"(?i)tests?\b|\.tests?\.", relative_to(folder, f))
            ),
            key=lambda f: ("Microsoft.NET.Sdk.Web" not in (view.read(f) or ""), f),
        )
        nested = True
    if not projects:
        return None
    project = projects[0]
    text = view.read(project) or ""
    language = {"fsproj": "fsharp", "vbproj": "vb"}.get(project.rsplit(".", 1)[-1], "csharp")
    name = project.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    detection = Detection(
        language=Fact(language, project, "MSBuild project file"),
        package_manager=Fact("dotnet", project, "MSBuild project file"),
        build_command=Fact(
            f"dotnet publish {relative_to(folder, project)} -c Release -o out"
            if nested
            else "dotnet publish -c Release -o out",
            project,
            "dotnet project",
            "medium",
        ),
        start_command=Fact(f"dotnet out/{name}.dll", project, "published assembly", "medium"),
    )
    if nested:
        detection.notes.append(f"{project}: the solution's web project was chosen")
    if "Microsoft.NET.Sdk.Web" in text:
        detection.framework = Fact("aspnetcore", project, 'Sdk="Microsoft.NET.Sdk.Web"')
        detection.ports.append(
            default_port(8080, project, "ASP.NET Core 8+ containers listen on 8080")
        )
    else:
        detection.kind = "worker"
    settings = view.first_existing(folder, "Properties/launchSettings.json")
    if settings:
        detection.notes.append(
            f"{settings} holds development URLs only; they were not used for the port"
        )
    code = code_files(view, folder, (".cs", ".fs", ".json"))
    detection.ports.extend(
        scan_ports(
            view,
            [c for c in code if not c.endswith("launchSettings.json")],
            (
                re.compile(r"\.UseUrls\(\s*\"https?://[^\"]*:(\d{2,5})\""),
                re.compile(r"ListenAnyIP\(\s*(\d{2,5})"),
                re.compile(r"\"Url\"\s*:\s*\"https?://[^\"]*:(\d{2,5})\""),
            ),
            "code",
        )
    )
    detection.databases.extend(_db_from_text(text.replace('Include="', 'Include=" '), project))
    lowered = text.lower()
    for package, db_type in (
        ("npgsql", "postgres"),
        ("pomelo.entityframeworkcore.mysql", "mysql"),
        ("mongodb.driver", "mongodb"),
        ("stackexchange.redis", "redis"),
    ):
        if package in lowered and all(d.value != db_type for d in detection.databases):
            detection.databases.append(Fact(db_type, project, f"references {package}"))
    return detection


def detect_elixir(view: RepoView, folder: str) -> Detection | None:
    mix = view.first_existing(folder, "mix.exs")
    if mix is None:
        return None
    text = view.read(mix) or ""
    detection = Detection(
        language=Fact("elixir", mix, "mix.exs present"),
        package_manager=Fact("mix", mix, "mix.exs present"),
    )
    if re.search(r"\{:phoenix\s*,", text):
        detection.framework = Fact("phoenix", mix, "depends on :phoenix")
        detection.build_command = Fact(
            "mix do deps.get, assets.deploy, release", mix, "Phoenix release", "medium"
        )
        detection.start_command = Fact("mix phx.server", mix, "Phoenix server", "medium")
        detection.ports.append(default_port(4000, mix, "Phoenix listens on 4000"))
    elif re.search(r"\{:plug_cowboy\s*,|\{:bandit\s*,", text):
        detection.framework = Fact("plug", mix, "depends on a Plug server")
    else:
        detection.kind = "worker"
    app = re.search(r"\bapp:\s*:(\w+)", text)
    if detection.start_command is None and app and re.search(r"\breleases:", text):
        name = app.group(1)
        detection.build_command = Fact("mix do deps.get, release", mix, "Mix release", "medium")
        detection.start_command = Fact(
            f"_build/prod/rel/{name}/bin/{name} start", mix, "the Mix release", "medium"
        )
    elif detection.start_command is None:
        detection.build_command = Fact("mix do deps.get, compile", mix, "Mix project", "medium")
        detection.start_command = Fact("mix run --no-halt", mix, "Mix application", "medium")
    code = code_files(view, folder, (".ex", ".exs"))
    detection.ports.extend(
        scan_ports(
            view,
            code,
            (
                re.compile(r"System\.get_env\(\"PORT\"\)\s*\|\|\s*\"(\d{2,5})\""),
                re.compile(r"System\.get_env\(\"PORT\",\s*\"(\d{2,5})\"\)"),
                re.compile(r"\bport:\s*(\d{2,5})\b"),
            ),
            "code",
        )
    )
    if detection.kind == "worker" and detection.ports:
        detection.kind = "web"
    for dep, db_type in ((":postgrex", "postgres"), (":myxql", "mysql"), (":redix", "redis")):
        if dep in text:
            detection.databases.append(Fact(db_type, mix, f"depends on {dep}"))
    return detection
