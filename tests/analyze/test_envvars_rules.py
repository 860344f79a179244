"""Which variables init lists, and how: secret-looking names, build-time prefixes, names the
platform sets itself, and required/optional per language (only a read that fails without the
variable, or an example file listing it without a value, makes it required)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.analyze import EnvVar, analyze, render_manifest


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _env(root: Path, files: dict[str, str]) -> dict[str, EnvVar]:
    _write(root, files)
    analysis = analyze(root, environment="production")
    assert analysis.refusal is None
    (service,) = analysis.services
    return {var.name: var for var in service.env}


_NODE_APP = {
    "package.json": '{"name": "a", "dependencies": {"express": "4"}, '
    '"scripts": {"start": "node index.js"}}\n',
    "index.js": "const app = require('express')();\napp.listen(3000);\n",
}

SECRET_NAMES = [
    "APP_SECRET",
    "SMTP_PASSWORD",
    "FTP_PASSWD",
    "MAIL_PASS",
    "GITHUB_TOKEN",
    "STRIPE_APIKEY",
    "OPENAI_API_KEY",
    "PRIVATE_PEM",
    "GCP_CREDENTIALS",
    "ENCRYPTION_KEY",
    "KEY",
    "SENTRY_DSN",
    "OAUTH_REDIRECT",
    "HASH_SALT",
    "SIGNING_CERT",
    "SLACK_WEBHOOK_URL",
    "AWS_ACCESS_KEY_ID",
    "GOOGLE_CLIENT_ID",
    "SESSION_STORE",
    "smtp_password",
    "github_token",
    "api_key",
]
PLAIN_NAMES = [
    "KEYBOARD_LAYOUT",
    "MONKEY",
    "PASSTHROUGH_MODE",
    "CLIENT_ID_LIST",
    "DSN_HOST",
    "LOG_LEVEL",
    "log_level",
]


@pytest.mark.parametrize("name", SECRET_NAMES + PLAIN_NAMES)
def test_secret_looking_names_become_secret_references(name: str, tmp_path: Path) -> None:
    env = _env(tmp_path, {**_NODE_APP, ".env.example": f"{name}=placeholder-value\n"})
    secret = name in SECRET_NAMES
    assert env[name].secret is secret
    manifest = render_manifest(analyze(tmp_path, environment="production"))
    if secret:
        assert f'{name}: "${{{{ secrets.{name} }}}}"  # secret-looking name' in manifest
        assert "placeholder-value" not in manifest
    else:
        assert f'{name}: "placeholder-value"  # default from .env.example' in manifest


@pytest.mark.parametrize(
    ("name", "build_time"),
    [
        ("NEXT_PUBLIC_API", True),
        ("VITE_API", True),
        ("REACT_APP_API", True),
        ("PUBLIC_API", True),
        ("NUXT_PUBLIC_API", True),
        ("EXPO_PUBLIC_API", True),
        ("API_PUBLIC_URL", False),
        ("MY_VITE_API", False),
    ],
)
def test_public_prefixes_are_build_time(name: str, build_time: bool, tmp_path: Path) -> None:
    env = _env(tmp_path, {**_NODE_APP, ".env.example": f"{name}=x\n"})
    assert env[name].build_time is build_time
    manifest = render_manifest(analyze(tmp_path))
    section = manifest.split("build_env:")[1] if build_time else manifest.split("env:")[1]
    assert f'{name}: "x"' in section


@pytest.mark.parametrize(
    "name",
    [
        "PORT",
        "HOST",
        "HOSTNAME",
        "NODE_ENV",
        "PATH",
        "HOME",
        "TZ",
        "CI",
        "PYTHONUNBUFFERED",
        "RAILS_ENV",
        "RACK_ENV",
        "MIX_ENV",
        "APP_ENV",
        "ASPNETCORE_URLS",
        "ASPNETCORE_ENVIRONMENT",
        "DOTNET_ENVIRONMENT",
        "K_SERVICE",
        "JAVA_HOME",
        "GOPATH",
        "LANG",
    ],
)
def test_platform_managed_names_are_left_out(name: str, tmp_path: Path) -> None:
    env = _env(tmp_path, {**_NODE_APP, ".env.example": f"{name}=x\nAPP_MODE=y\n"})
    assert name not in env
    assert "APP_MODE" in env


# One app per language: REQ is read so that a missing variable fails, OPT with a fallback
# in code, PLAIN without one (optional too: "when unsure, required: false").
LANGUAGE_APPS: dict[str, dict[str, str]] = {
    "go": {
        "go.mod": "module x\n\ngo 1.22\n",
        "main.go": 'package main\nimport "os"\nvar a = os.Getenv("PLAIN")\n'
        'var b, _ = os.LookupEnv("PLAIN")\nfunc main(){}\n',
    },
    "rust": {
        "Cargo.toml": '[package]\nname = "svc"\nversion = "0.1.0"\n',
        "src/main.rs": 'fn main() {\n let a = env!("REQ");\n'
        ' let b = std::env::var("OPT").unwrap_or("x".into());\n'
        ' let c = env::var("PLAIN");\n}\n',
    },
    "php": {
        "composer.json": '{"require": {"monolog/monolog": "1"}}',
        "index.php": "<?php\n$a = getenv('OPT') ?: 'x';\n$b = $_ENV['PLAIN'];\n"
        "$c = env('OPT2', 'y');\n",
    },
    "jvm": {
        "pom.xml": "<project>spring-boot</project>",
        "src/main/resources/application.properties": "a=${REQ}\nb=${OPT:fallback}\n",
        "src/main/java/App.java": 'class App { String p = System.getenv("PLAIN"); }\n',
    },
    "dotnet": {
        "Api.csproj": '<Project Sdk="Microsoft.NET.Sdk.Web"></Project>',
        "Program.cs": 'var a = Environment.GetEnvironmentVariable("OPT") ?? "x";\n'
        'var b = Environment.GetEnvironmentVariable("PLAIN");\n',
    },
    "elixir": {
        "mix.exs": 'defp deps do [{:phoenix, "~> 1.7"}] end\n',
        "config/runtime.exs": 'a = System.fetch_env!("REQ")\nb = System.get_env("OPT", "x")\n'
        'c = System.get_env("PLAIN")\nd = System.get_env("OPT2") || "y"\n',
    },
    "python": {
        "requirements.txt": "flask\n",
        "app.py": "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
        'a = os.environ[ "REQ" ]\nb = os.getenv("OPT", "x")\nc = os.environ.get("PLAIN")\n'
        'd = env("OPT2", default="y")\n',
    },
    "ruby": {
        "Gemfile": "gem 'sinatra'\n",
        "app.rb": "A = ENV.fetch('REQ')\nB = ENV['OPT'] || 'x'\nC = ENV['PLAIN']\n"
        "D = ENV.fetch('OPT2') { 'y' }\n",
    },
    "node": {
        **_NODE_APP,
        "lib.js": "const a = process.env.OPT ?? 'x';\nconst b = process.env['OPT2'] || 'y';\n"
        "const c = process.env.PLAIN;\n",
    },
    "shell": {
        **_NODE_APP,
        "entrypoint.sh": '#!/bin/sh\necho "${OPT:-x}" "${PLAIN}"\n',
    },
}


@pytest.mark.parametrize("language", sorted(LANGUAGE_APPS))
def test_required_only_for_reads_that_fail_without_the_variable(
    language: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, LANGUAGE_APPS[language])
    seen = {name: (var.required, var.fallback_in_code) for name, var in env.items()}
    expected = {
        name: (name == "REQ", name.startswith("OPT"))
        for name in ("REQ", "OPT", "OPT2", "PLAIN")
        if name in seen
    }
    assert seen == expected
    assert "PLAIN" in seen
    manifest = render_manifest(analyze(tmp_path))
    if "OPT" in seen:
        assert "# OPT: optional, the code has a fallback" in manifest
    assert "# PLAIN: no value found; set one if it is needed" in manifest
    if "REQ" in seen:
        assert '# REQ: ""  # TODO required, no value found' in manifest


def test_example_files_make_keys_required_unless_they_give_a_value(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        {
            **_NODE_APP,
            ".env.sample": "EMPTY_ONE=\n",
            ".env.template": "GIVEN_ONE=abc\n",
            ".env.dist": "DIST_ONE=\n",
            "worker.js": "const x = process.env.EMPTY_ONE || 'fallback';\n",
        },
    )
    assert (env["GIVEN_ONE"].required, env["GIVEN_ONE"].default) == (False, "abc")
    assert (env["DIST_ONE"].required, env["DIST_ONE"].default) == (True, None)
    # A fallback in code wins over the example file listing it without a value.
    assert (env["EMPTY_ONE"].required, env["EMPTY_ONE"].fallback_in_code) == (False, True)


def test_compose_values_are_defaults_but_interpolations_are_not(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        {
            **_NODE_APP,
            "docker-compose.yml": "services:\n  web:\n    build: .\n    environment:\n"
            "      MODE: fast\n      UPSTREAM: ${UPSTREAM_FROM_HOST}\n",
        },
    )
    assert env["MODE"].default == "fast"
    assert env["UPSTREAM"].default is None
    manifest = render_manifest(analyze(tmp_path))
    assert 'MODE: "fast"  # default from docker-compose.yml' in manifest
    assert "${UPSTREAM_FROM_HOST}" not in manifest


def test_dockerfile_args_and_build_script_vars_are_build_time(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        {
            "package.json": '{"name": "a", "dependencies": {"express": "4"}, '
            '"scripts": {"start": "node index.js", "build": "tsc && echo $BUILD_STAMP"}}\n',
            "index.js": "app.listen(3000);\n",
            "Dockerfile": "FROM node:20\nARG RELEASE_CHANNEL=beta\nARG COMMIT_SHA\n"
            'CMD ["node", "index.js"]\n',
        },
    )
    assert (env["RELEASE_CHANNEL"].build_time, env["RELEASE_CHANNEL"].default) == (True, "beta")
    assert (env["COMMIT_SHA"].build_time, env["COMMIT_SHA"].default) == (True, None)
    assert env["BUILD_STAMP"].build_time is True
