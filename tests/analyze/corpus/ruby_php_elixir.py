"""Ruby (Rails, Sinatra, Rack, plain), PHP (Laravel with and without a JS front end, plain) and
Elixir (Phoenix, Plug, Mix releases)."""

from __future__ import annotations

from tests.analyze.corpus import App, package_json


def _gemfile(*gems: str) -> str:
    return "source 'https://rubygems.org'\n\n" + "".join(f"gem '{g}'\n" for g in gems)


def _composer(*packages: str) -> str:
    require = ", ".join(f'"{p}": "*"' for p in ("php", *packages))
    return '{\n  "require": {' + require + "}\n}\n"


DB_YML = "default: &default\n  adapter: {adapter}\n\nproduction:\n  <<: *default\n"


def _mix(app: str, *deps: str, release: bool = False) -> str:
    dep_text = ",\n      ".join(f"{{:{d}, \">= 0.0.0\"}}" for d in deps)
    releases = f"      releases: [{app}: []],\n" if release else ""
    return (
        f"defmodule {app.title()}.MixProject do\n  use Mix.Project\n\n  def project do\n"
        f"    [\n      app: :{app},\n      version: \"0.1.0\",\n{releases}      deps: deps()\n    ]\n  end\n\n"
        f"  defp deps do\n    [\n      {dep_text}\n    ]\n  end\nend\n"
    )


APPS = [
    App("rails-postgres",
        {"Gemfile": _gemfile("rails", "pg", "puma"), "config.ru": "run Rails.application\n",
         "config/database.yml": DB_YML.format(adapter="postgresql"),
         "config/puma.rb": 'port ENV.fetch("PORT") { 3000 }\n'},
        "ruby", "web", 3000, "rails server", ("postgres",), framework="rails"),
    App("rails-mysql2",
        {"Gemfile": _gemfile("rails", "mysql2"), "config/database.yml": DB_YML.format(adapter="mysql2")},
        "ruby", "web", 3000, "rails server", ("mysql",)),
    App("rails-yml-adapter-only",
        {"Gemfile": _gemfile("rails", "trilogy", "sidekiq"), "config/database.yml": DB_YML.format(adapter="trilogy")},
        "ruby", "web", 3000, "rails server", ("mysql", "redis")),
    App("rails-procfile-puma",
        {"Gemfile": _gemfile("rails", "pg", "redis"),
         "Procfile": "web: bundle exec puma -C config/puma.rb\nworker: bundle exec sidekiq\n",
         "config/puma.rb": 'port ENV.fetch("PORT") { 5100 }\n'},
        "ruby", "web", 5100, "bundle exec puma", ("postgres", "redis")),
    App("sinatra-classic",
        {"Gemfile": _gemfile("sinatra"), "app.rb": "require 'sinatra'\nget('/') { 'hi' }\n"},
        "ruby", "web", 4567, "ruby app.rb", framework="sinatra"),
    App("sinatra-rackup",
        {"Gemfile": _gemfile("sinatra", "puma"), "config.ru": "require './app'\nrun App\n",
         "app.rb": "class App < Sinatra::Base\nend\n"},
        "ruby", "web", 4567, "rackup"),
    App("rack-roda",
        {"Gemfile": _gemfile("roda", "puma"), "config.ru": "require 'roda'\nrun(->(env) { [200, {}, ['ok']] })\n"},
        "ruby", "web", 9292, "rackup"),
    App("ruby-worker",
        {"Gemfile": _gemfile("redis"), "worker.rb": "require 'redis'\nloop { sleep 5 }\n"},
        "ruby", "worker", None, "ruby worker.rb", ("redis",)),
    App("laravel-mysql",
        {"composer.json": _composer("laravel/framework"), "artisan": "#!/usr/bin/env php\n",
         ".env.example": "APP_NAME=Laravel\nDB_CONNECTION=mysql\nDB_HOST=127.0.0.1\n",
         "public/index.php": "<?php\n"},
        "php", "web", 8000, "php artisan serve", ("mysql",), framework="laravel"),
    App("laravel-vite-postgres",
        {"composer.json": _composer("laravel/framework", "laravel/sanctum"), "artisan": "#!/usr/bin/env php\n",
         "package.json": package_json(scripts={"dev": "vite", "build": "vite build"},
                                      dev={"vite": "5", "laravel-vite-plugin": "1"}),
         "vite.config.js": "export default {}\n", ".env.example": "DB_CONNECTION=pgsql\n",
         "public/index.php": "<?php\n"},
        "php", "web", 8000, "php artisan serve", ("postgres",), framework="laravel"),
    App("laravel-sqlite",
        {"composer.json": _composer("laravel/framework"), "artisan": "#!/usr/bin/env php\n",
         ".env.example": "DB_CONNECTION=sqlite\n"},
        "php", "web", 8000, "php artisan serve", ()),
    App("php-plain-index",
        {"index.php": "<?php echo 'hello';\n"}, "php", "web", 8080, "php -S 0.0.0.0:8080"),
    App("php-slim-public",
        {"composer.json": _composer("slim/slim", "slim/psr7"), "public/index.php": "<?php\n$app->run();\n"},
        "php", "web", 8080, "php -S 0.0.0.0:8080 -t public"),
    App("php-pdo-pgsql",
        {"index.php": "<?php\n$db = new PDO('pgsql:host=db;dbname=app');\n"},
        "php", "web", 8080, "php -S", ("postgres",)),
    App("phoenix-postgres",
        {"mix.exs": _mix("shop", "phoenix", "phoenix_ecto", "ecto_sql", "postgrex"),
         "config/runtime.exs": "config :shop, ShopWeb.Endpoint, http: [port: String.to_integer(System.get_env(\"PORT\") || \"4000\")]\n"},
        "elixir", "web", 4000, "mix phx.server", ("postgres",), framework="phoenix"),
    App("phoenix-myxql",
        {"mix.exs": _mix("blog", "phoenix", "ecto_sql", "myxql")},
        "elixir", "web", 4000, "mix phx.server", ("mysql",)),
    App("mix-release-worker",
        {"mix.exs": _mix("pipeline", "broadway", release=True),
         "lib/pipeline.ex": "defmodule Pipeline do\nend\n"},
        "elixir", "worker", None, "_build/prod/rel/pipeline/bin/pipeline start"),
    App("plug-cowboy",
        {"mix.exs": _mix("hello", "plug_cowboy"),
         "lib/hello/application.ex": "children = [{Plug.Cowboy, scheme: :http, plug: Hello.Router, options: [port: 4001]}]\n"},
        "elixir", "web", 4001, "mix run --no-halt"),
]
