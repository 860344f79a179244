"""Go (main in the root, in cmd/<name>/, go.work workspaces) and Rust (binaries, Cargo
workspaces with listed and glob members)."""

from __future__ import annotations

from tests.analyze.corpus import App


def _gomod(*requires: str) -> str:
    lines = "".join(f"\t{r} v1.0.0\n" for r in requires)
    return "module example.com/app\n\ngo 1.22\n" + (f"\nrequire (\n{lines})\n" if requires else "")


NETHTTP = (
    'package main\n\nimport "net/http"\n\nfunc main() {\n'
    '\thttp.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {})\n'
    '\thttp.ListenAndServe(":{port}", nil)\n}\n'
)
WORKER_GO = 'package main\n\nimport "time"\n\nfunc main() {\n\tfor {\n\t\ttime.Sleep(time.Minute)\n\t}\n}\n'


def _cargo(name: str, deps: str = "", extra: str = "") -> str:
    return f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n{extra}\n[dependencies]\n{deps}'


APPS = [
    App("go-root-nethttp", {"go.mod": _gomod(), "main.go": NETHTTP.replace("{port}", "8090")},
        "go", "web", 8090, "./app"),
    App("go-cmd-server-gin",
        {"go.mod": _gomod("github.com/gin-gonic/gin", "github.com/jackc/pgx/v5"),
         "cmd/server/main.go": 'package main\n\nimport "github.com/gin-gonic/gin"\n\n'
         'func main() {\n\tr := gin.Default()\n\tr.Run()\n}\n',
         "internal/db/db.go": "package db\n"},
        "go", "web", 8080, "./app", ("postgres",), framework="gin"),
    App("go-cmd-several",
        {"go.mod": _gomod("github.com/labstack/echo/v4"),
         "cmd/migrate/main.go": 'package main\n\nfunc main() {}\n',
         "cmd/api/main.go": 'package main\n\nimport "github.com/labstack/echo/v4"\n\n'
         'func main() {\n\te := echo.New()\n\te.Logger.Fatal(e.Start(":1323"))\n}\n'},
        "go", "web", 1323, "./app"),
    App("go-work",
        {"go.work": "go 1.22\n\nuse (\n\t./api\n\t./lib\n)\n",
         "api/go.mod": "module example.com/api\n\ngo 1.22\n",
         "api/main.go": NETHTTP.replace("{port}", "7070"),
         "lib/go.mod": "module example.com/lib\n\ngo 1.22\n", "lib/lib.go": "package lib\n"},
        "go", "web", 7070, "./app"),
    App("go-worker", {"go.mod": _gomod(), "main.go": WORKER_GO}, "go", "worker", None, "./app"),
    App("go-fiber-env-port",
        {"go.mod": _gomod("github.com/gofiber/fiber/v2", "github.com/redis/go-redis/v9"),
         "main.go": 'package main\n\nimport (\n\t"os"\n\t"github.com/gofiber/fiber/v2"\n)\n\n'
         'func main() {\n\tport := os.Getenv("PORT")\n\tif port == "" {\n\t\tport = "3005"\n\t}\n'
         '\tapp := fiber.New()\n\tapp.Listen(":" + port)\n}\n'},
        "go", "web", 3005, "./app", ("redis",)),
    App("go-mongo-mysql",
        {"go.mod": _gomod("go.mongodb.org/mongo-driver", "github.com/go-sql-driver/mysql"),
         "main.go": NETHTTP.replace("{port}", "8080")},
        "go", "web", 8080, "./app", ("mongodb", "mysql")),
    App("go-lib-pq-worker",
        {"go.mod": _gomod("github.com/lib/pq"), "main.go": WORKER_GO},
        "go", "worker", None, "./app", ("postgres",)),
    App("rust-actix-bind",
        {"Cargo.toml": _cargo("shop", 'actix-web = "4"\n'),
         "src/main.rs": 'use actix_web::{App, HttpServer};\n#[actix_web::main]\nasync fn main() -> std::io::Result<()> {\n'
         '    HttpServer::new(|| App::new()).bind(("0.0.0.0", 8085))?.run().await\n}\n'},
        "rust", "web", 8085, "./target/release/shop"),
    App("rust-axum-sqlx-postgres",
        {"Cargo.toml": _cargo("api", 'axum = "0.7"\ntokio = { version = "1", features = ["full"] }\n'
                              'sqlx = { version = "0.7", features = ["runtime-tokio", "postgres"] }\n'),
         "src/main.rs": 'let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();\n'},
        "rust", "web", 3000, "./target/release/api", ("postgres",)),
    App("rust-workspace-members",
        {"Cargo.toml": '[workspace]\nmembers = ["api", "core"]\nresolver = "2"\n',
         "api/Cargo.toml": _cargo("api-server", 'axum = "0.7"\ncore = { path = "../core" }\n'),
         "api/src/main.rs": 'fn main() { let l = TcpListener::bind("0.0.0.0:3000"); }\n',
         "core/Cargo.toml": _cargo("core"), "core/src/lib.rs": "pub fn f() {}\n"},
        "rust", "web", 3000, "./target/release/api-server"),
    App("rust-workspace-glob",
        {"Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n',
         "crates/shared/Cargo.toml": _cargo("shared", 'redis = "0.25"\n'),
         "crates/shared/src/lib.rs": "pub fn f() {}\n",
         "crates/server/Cargo.toml": _cargo("server", 'actix-web = "4"\nshared = { path = "../shared" }\n'),
         "crates/server/src/main.rs": 'fn main() { HttpServer::new(|| App::new()).bind(("0.0.0.0", 8080)); }\n'},
        "rust", "web", 8080, "./target/release/server"),
    App("rust-cli-worker",
        {"Cargo.toml": _cargo("ticker", 'tokio = "1"\n'),
         "src/main.rs": "fn main() { loop { std::thread::sleep(std::time::Duration::from_secs(5)); } }\n"},
        "rust", "worker", None, "./target/release/ticker"),
    App("rust-bin-table-rocket",
        {"Cargo.toml": _cargo("web", 'rocket = "0.5"\n', '\n[[bin]]\nname = "svc"\npath = "src/bin/svc.rs"\n'),
         "src/bin/svc.rs": "#[launch]\nfn rocket() -> _ { rocket::build() }\n"},
        "rust", "web", 8000, "./target/release/svc"),
    App("rust-diesel-mysql",
        {"Cargo.toml": _cargo("blog", 'actix-web = "4"\ndiesel = { version = "2", features = ["mysql"] }\n'),
         "src/main.rs": "fn main() {}\n"},
        "rust", "web", 8080, "./target/release/blog", ("mysql",)),
]
