"""Java/Kotlin (Maven, Gradle: Spring Boot, Quarkus), .NET (*.csproj) and Elixir (mix.exs)."""

from __future__ import annotations

import re
from typing import Final

from opendeploy_plan.analyze.model import Detection, Fact
from opendeploy_plan.analyze.repo import RepoView, join
from opendeploy_plan.analyze.signals import (
    DATABASE_DRIVERS,
    code_files,
    default_port,
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
        detection.kind = "worker"
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
    return detection


def detect_dotnet(view: RepoView, folder: str) -> Detection | None:
    projects = sorted(
        f for f in view.in_folder(folder) if f.endswith((".csproj", ".fsproj", ".vbproj"))
    )
    if not projects:
        return None
    project = projects[0]
    text = view.read(project) or ""
    language = {"fsproj": "fsharp", "vbproj": "vb"}.get(project.rsplit(".", 1)[-1], "csharp")
    name = project.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    detection = Detection(
        language=Fact(language, project, "MSBuild project file"),
        package_manager=Fact("dotnet", project, "MSBuild project file"),
        build_command=Fact("dotnet publish -c Release -o out", project, "dotnet project", "medium"),
        start_command=Fact(f"dotnet out/{name}.dll", project, "published assembly", "medium"),
    )
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
