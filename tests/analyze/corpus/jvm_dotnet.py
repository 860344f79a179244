"""JVM (Maven, Gradle Groovy and Kotlin DSL; Spring Boot and plain) and .NET (ASP.NET, workers)."""

from __future__ import annotations

from tests.analyze.corpus import App


def _pom(*deps: tuple[str, str], parent: bool = True) -> str:
    parent_xml = (
        "  <parent>\n    <groupId>org.springframework.boot</groupId>\n"
        "    <artifactId>spring-boot-starter-parent</artifactId>\n    <version>3.3.0</version>\n  </parent>\n"
        if parent
        else ""
    )
    body = "".join(
        f"    <dependency>\n      <groupId>{g}</groupId>\n      <artifactId>{a}</artifactId>\n    </dependency>\n"
        for g, a in deps
    )
    return (
        '<?xml version="1.0"?>\n<project>\n  <modelVersion>4.0.0</modelVersion>\n'
        f"{parent_xml}  <groupId>com.example</groupId>\n  <artifactId>demo</artifactId>\n"
        f"  <dependencies>\n{body}  </dependencies>\n</project>\n"
    )


MAIN_JAVA = "public class Main {\n  public static void main(String[] args) throws Exception {\n    while (true) Thread.sleep(1000);\n  }\n}\n"
CSPROJ = '<Project Sdk="{sdk}">\n  <PropertyGroup>\n    <TargetFramework>net8.0</TargetFramework>\n  </PropertyGroup>\n  <ItemGroup>\n{refs}  </ItemGroup>\n</Project>\n'


def _csproj(sdk: str = "Microsoft.NET.Sdk.Web", *packages: str) -> str:
    refs = "".join(f'    <PackageReference Include="{p}" Version="8.0.0" />\n' for p in packages)
    return CSPROJ.format(sdk=sdk, refs=refs)


APPS = [
    App("spring-maven-postgres",
        {"pom.xml": _pom(("org.springframework.boot", "spring-boot-starter-web"),
                         ("org.postgresql", "postgresql")),
         "mvnw": "#!/bin/sh\n", "src/main/java/com/example/App.java": "class App {}\n"},
        "java", "web", 8080, "java -jar target/", ("postgres",), framework="spring-boot"),
    App("spring-gradle-groovy-mysql",
        {"build.gradle": "plugins {\n  id 'java'\n  id 'org.springframework.boot' version '3.3.0'\n}\n"
         "dependencies {\n  implementation 'org.springframework.boot:spring-boot-starter-web'\n"
         "  runtimeOnly 'com.mysql:mysql-connector-j'\n}\n",
         "gradlew": "#!/bin/sh\n",
         "src/main/resources/application.properties": "server.port=9090\n"},
        "java", "web", 9090, "java -jar build/libs/", ("mysql",)),
    App("spring-gradle-kts-env-port",
        {"build.gradle.kts": 'plugins {\n  kotlin("jvm") version "1.9.24"\n  id("org.springframework.boot") version "3.3.0"\n}\n'
         'dependencies {\n  implementation("org.springframework.boot:spring-boot-starter-webflux")\n}\n',
         "src/main/kotlin/App.kt": "fun main() {}\n",
         "src/main/resources/application.yml": "server:\n  port: ${PORT:8081}\n"},
        "kotlin", "web", 8081, "java -jar build/libs/"),
    App("spring-data-mongo-redis",
        {"pom.xml": _pom(("org.springframework.boot", "spring-boot-starter-web"),
                         ("org.springframework.boot", "spring-boot-starter-data-mongodb"),
                         ("org.springframework.boot", "spring-boot-starter-data-redis"))},
        "java", "web", 8080, "java -jar target/", ("mongodb", "redis")),
    App("spring-jdbc-url-only",
        {"pom.xml": _pom(("org.springframework.boot", "spring-boot-starter-data-jpa"),
                         ("org.springframework.boot", "spring-boot-starter-web")),
         "src/main/resources/application.properties":
             "spring.datasource.url=jdbc:postgresql://localhost:5432/app\n"},
        "java", "web", 8080, "java -jar target/", ("postgres",)),
    App("maven-plain-worker",
        {"pom.xml": _pom(parent=False), "src/main/java/Main.java": MAIN_JAVA},
        "java", "worker", None, "java -jar target/"),
    App("gradle-plain-httpserver",
        {"build.gradle": "plugins { id 'application' }\napplication { mainClass = 'App' }\n",
         "src/main/java/App.java": "import com.sun.net.httpserver.HttpServer;\nimport java.net.InetSocketAddress;\n"
         "public class App {\n  public static void main(String[] a) throws Exception {\n"
         "    HttpServer s = HttpServer.create(new InetSocketAddress(8000), 0);\n    s.start();\n  }\n}\n"},
        "java", "web", 8000, "java"),
    App("javalin-gradle-kts",
        {"build.gradle.kts": 'plugins { application }\ndependencies { implementation("io.javalin:javalin:6.1.3") }\n',
         "src/main/java/App.java": "public class App {\n  public static void main(String[] a) {\n"
         "    Javalin.create().start(7070);\n  }\n}\n"},
        "java", "web", 7070, "java"),
    App("quarkus-maven",
        {"pom.xml": _pom(("io.quarkus", "quarkus-resteasy-reactive"), ("io.quarkus", "quarkus-jdbc-postgresql"),
                         parent=False)},
        "java", "web", 8080, "quarkus-run.jar", ("postgres",)),
    App("aspnet-webapi",
        {"Api.csproj": _csproj(), "Program.cs": "var app = WebApplication.Create(args);\napp.Run();\n"},
        "csharp", "web", 8080, "dotnet out/Api.dll", framework="aspnetcore"),
    App("aspnet-sln-subfolder",
        {"Shop.sln": "Microsoft Visual Studio Solution File\n",
         "src/Shop.Web/Shop.Web.csproj": _csproj("Microsoft.NET.Sdk.Web",
                                                 "Npgsql.EntityFrameworkCore.PostgreSQL"),
         "src/Shop.Web/Program.cs": "var app = WebApplication.Create(args);\napp.Run();\n",
         "tests/Shop.Tests/Shop.Tests.csproj": _csproj("Microsoft.NET.Sdk", "xunit")},
        "csharp", "web", 8080, "dotnet out/Shop.Web.dll", ("postgres",)),
    App("dotnet-worker",
        {"Jobs.csproj": _csproj("Microsoft.NET.Sdk.Worker", "StackExchange.Redis"),
         "Program.cs": "var host = Host.CreateDefaultBuilder(args).Build();\nhost.Run();\n"},
        "csharp", "worker", None, "dotnet out/Jobs.dll", ("redis",)),
    App("aspnet-urls-port",
        {"Web.csproj": _csproj("Microsoft.NET.Sdk.Web", "Pomelo.EntityFrameworkCore.MySql"),
         "Program.cs": 'var b = WebApplication.CreateBuilder(args);\nb.WebHost.UseUrls("http://0.0.0.0:5000");\n'},
        "csharp", "web", 5000, "dotnet out/Web.dll", ("mysql",)),
]
