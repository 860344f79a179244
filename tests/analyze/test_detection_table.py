# ruff: noqa: E501
"""What `odplan init` detects for one small app per framework, runtime and package manager.

Each row is a minimal project tree and what init must say about it: language, framework,
kind, package manager, the install/build/start commands a local runtime would run (the
`RunProfile`) and the port. The ports and commands are each framework's documented default
(`next start` -> 3000, Streamlit -> 8501, Phoenix -> 4000, `rackup` -> 9292, ...), so a wrong
default table entry, a wrong lockfile mapping or a wrong runner prefix fails its row.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.analyze import analyze
from opendeploy_plan.analyze.profile import profile_of

# (language, framework, kind, package manager, install, build, start, port)
Expected = tuple[
    str | None, str | None, str, str | None, str | None, str | None, str | None, int | None
]

CASES: dict[str, tuple[dict[str, str], Expected]] = {
    "node:next": (
        {
            "package.json": '{"name": "app", "dependencies": {"next": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "nextjs",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "npx next start",
            3000,
        ),
    ),
    "node:nuxt": (
        {
            "package.json": '{"name": "app", "dependencies": {"nuxt": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "nuxt",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "node .output/server/index.mjs",
            3000,
        ),
    ),
    "node:nuxt3": (
        {
            "package.json": '{"name": "app", "dependencies": {"nuxt3": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "nuxt",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "node .output/server/index.mjs",
            3000,
        ),
    ),
    "node:@remix-run/node": (
        {
            "package.json": '{"name": "app", "dependencies": {"@remix-run/node": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "remix",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "npx remix-serve ./build/server/index.js",
            3000,
        ),
    ),
    "node:@remix-run/serve": (
        {
            "package.json": '{"name": "app", "dependencies": {"@remix-run/serve": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "remix",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "npx remix-serve ./build/server/index.js",
            3000,
        ),
    ),
    "node:@remix-run/react": (
        {
            "package.json": '{"name": "app", "dependencies": {"@remix-run/react": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "remix",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "npx remix-serve ./build/server/index.js",
            3000,
        ),
    ),
    "node:@sveltejs/kit": (
        {
            "package.json": '{"name": "app", "dependencies": {"@sveltejs/kit": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "sveltekit",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "node build",
            3000,
        ),
    ),
    "node:astro": (
        {
            "package.json": '{"name": "app", "dependencies": {"astro": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        ("javascript", "astro", "static", "npm", "npm install", "npm run build", None, None),
    ),
    "node:@nestjs/core": (
        {
            "package.json": '{"name": "app", "dependencies": {"@nestjs/core": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        ("javascript", "nestjs", "web", "npm", "npm install", "npm run build", None, 3000),
    ),
    "node:@tanstack/react-start": (
        {
            "package.json": '{"name": "app", "dependencies": {"@tanstack/react-start": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "tanstack-start",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "node .output/server/index.mjs",
            3000,
        ),
    ),
    "node:@tanstack/solid-start": (
        {
            "package.json": '{"name": "app", "dependencies": {"@tanstack/solid-start": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "tanstack-start",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "node .output/server/index.mjs",
            3000,
        ),
    ),
    "node:@tanstack/start": (
        {
            "package.json": '{"name": "app", "dependencies": {"@tanstack/start": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "tanstack-start",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "node .output/server/index.mjs",
            3000,
        ),
    ),
    "node:@react-router/serve": (
        {
            "package.json": '{"name": "app", "dependencies": {"@react-router/serve": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "react-router",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "npx react-router-serve ./build/server/index.js",
            3000,
        ),
    ),
    "node:@react-router/node": (
        {
            "package.json": '{"name": "app", "dependencies": {"@react-router/node": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "react-router",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "npx react-router-serve ./build/server/index.js",
            3000,
        ),
    ),
    "node:@solidjs/start": (
        {
            "package.json": '{"name": "app", "dependencies": {"@solidjs/start": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "solid-start",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "node .output/server/index.mjs",
            3000,
        ),
    ),
    "node:@angular/core": (
        {
            "package.json": '{"name": "app", "dependencies": {"@angular/core": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        ("javascript", "angular", "static", "npm", "npm install", "npm run build", None, None),
    ),
    "node:@vue/cli-service": (
        {
            "package.json": '{"name": "app", "dependencies": {"@vue/cli-service": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        ("javascript", "vue", "static", "npm", "npm install", "npm run build", None, None),
    ),
    "node:react-scripts": (
        {
            "package.json": '{"name": "app", "dependencies": {"react-scripts": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        (
            "javascript",
            "create-react-app",
            "static",
            "npm",
            "npm install",
            "npm run build",
            None,
            None,
        ),
    ),
    "node:hono": (
        {
            "package.json": '{"name": "app", "dependencies": {"hono": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        ("javascript", "hono", "web", "npm", "npm install", "npm run build", None, 3000),
    ),
    "node:fastify": (
        {
            "package.json": '{"name": "app", "dependencies": {"fastify": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        ("javascript", "fastify", "web", "npm", "npm install", "npm run build", None, 3000),
    ),
    "node:koa": (
        {
            "package.json": '{"name": "app", "dependencies": {"koa": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        ("javascript", "koa", "web", "npm", "npm install", "npm run build", None, 3000),
    ),
    "node:express": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        ("javascript", "express", "web", "npm", "npm install", "npm run build", None, 3000),
    ),
    "node:vite": (
        {
            "package.json": '{"name": "app", "dependencies": {"vite": "1"}, "scripts": {"build": "x build"}}',
            "package-lock.json": "{}",
        },
        ("javascript", "vite", "static", "npm", "npm install", "npm run build", None, None),
    ),
    "lock:pnpm-lock.yaml": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "scripts": {"build": "tsc", "start": "node dist/index.js"}}',
            "pnpm-lock.yaml": "x",
        },
        (
            "javascript",
            "express",
            "web",
            "pnpm",
            "pnpm install",
            "pnpm run build",
            "pnpm start",
            3000,
        ),
    ),
    "lock:bun.lockb": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "scripts": {"build": "tsc", "start": "node dist/index.js"}}',
            "bun.lockb": "x",
        },
        (
            "javascript",
            "express",
            "web",
            "bun",
            "bun install",
            "bun run build",
            "bun run start",
            3000,
        ),
    ),
    "lock:bun.lock": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "scripts": {"build": "tsc", "start": "node dist/index.js"}}',
            "bun.lock": "x",
        },
        (
            "javascript",
            "express",
            "web",
            "bun",
            "bun install",
            "bun run build",
            "bun run start",
            3000,
        ),
    ),
    "lock:yarn.lock": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "scripts": {"build": "tsc", "start": "node dist/index.js"}}',
            "yarn.lock": "x",
        },
        ("javascript", "express", "web", "yarn", "yarn install", "yarn build", "yarn start", 3000),
    ),
    "lock:package-lock.json": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "scripts": {"build": "tsc", "start": "node dist/index.js"}}',
            "package-lock.json": "x",
        },
        ("javascript", "express", "web", "npm", "npm install", "npm run build", "npm start", 3000),
    ),
    "lock:npm-shrinkwrap.json": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "scripts": {"build": "tsc", "start": "node dist/index.js"}}',
            "npm-shrinkwrap.json": "x",
        },
        ("javascript", "express", "web", "npm", "npm install", "npm run build", "npm start", 3000),
    ),
    "nolock": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "scripts": {"start": "node i.js"}}'
        },
        ("javascript", "express", "web", "npm", "npm install", None, "npm start", 3000),
    ),
    "pm-declared": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "scripts": {"start": "node i.js"}, "packageManager": "pnpm@9.1.0"}'
        },
        ("javascript", "express", "web", "pnpm", "pnpm install", None, "pnpm start", 3000),
    ),
    "cfg:next.config.js": (
        {
            "package.json": '{"name": "app", "dependencies": {"lodash": "1"}}',
            "next.config.js": "{}",
        },
        ("javascript", "nextjs", "web", "npm", "npm install", None, "npx next start", 3000),
    ),
    "cfg:nuxt.config.ts": (
        {
            "package.json": '{"name": "app", "dependencies": {"lodash": "1"}}',
            "nuxt.config.ts": "{}",
        },
        (
            "javascript",
            "nuxt",
            "web",
            "npm",
            "npm install",
            None,
            "node .output/server/index.mjs",
            3000,
        ),
    ),
    "cfg:remix.config.js": (
        {
            "package.json": '{"name": "app", "dependencies": {"lodash": "1"}}',
            "remix.config.js": "{}",
        },
        (
            "javascript",
            "remix",
            "web",
            "npm",
            "npm install",
            None,
            "npx remix-serve ./build/server/index.js",
            3000,
        ),
    ),
    "cfg:svelte.config.js": (
        {
            "package.json": '{"name": "app", "dependencies": {"lodash": "1"}}',
            "svelte.config.js": "{}",
        },
        ("javascript", "sveltekit", "web", "npm", "npm install", None, "node build", 3000),
    ),
    "cfg:astro.config.mjs": (
        {
            "package.json": '{"name": "app", "dependencies": {"lodash": "1"}}',
            "astro.config.mjs": "{}",
        },
        ("javascript", "astro", "static", "npm", "npm install", None, None, None),
    ),
    "cfg:angular.json": (
        {"package.json": '{"name": "app", "dependencies": {"lodash": "1"}}', "angular.json": "{}"},
        ("javascript", "angular", "static", "npm", "npm install", None, None, None),
    ),
    "cfg:nest-cli.json": (
        {"package.json": '{"name": "app", "dependencies": {"lodash": "1"}}', "nest-cli.json": "{}"},
        ("javascript", "nestjs", "web", "npm", "npm install", None, None, 3000),
    ),
    "cfg:vite.config.ts": (
        {
            "package.json": '{"name": "app", "dependencies": {"lodash": "1"}}',
            "vite.config.ts": "{}",
        },
        ("javascript", "vite", "static", "npm", "npm install", None, None, None),
    ),
    "py:python-fasthtml": (
        {"requirements.txt": "python-fasthtml\n", "main.py": "import x\n"},
        (
            "python",
            "fasthtml",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "python main.py",
            5001,
        ),
    ),
    "py:streamlit": (
        {"requirements.txt": "streamlit\n", "main.py": "import x\n"},
        (
            "python",
            "streamlit",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "streamlit run main.py",
            8501,
        ),
    ),
    "py:gradio": (
        {"requirements.txt": "gradio\n", "main.py": "import x\n"},
        (
            "python",
            "gradio",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "python main.py",
            7860,
        ),
    ),
    "py:dash": (
        {"requirements.txt": "dash\n", "main.py": "import x\n"},
        (
            "python",
            "dash",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "python main.py",
            8050,
        ),
    ),
    "py:web.py": (
        {"requirements.txt": "web.py\n", "main.py": "import x\n"},
        (
            "python",
            "web.py",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "python main.py",
            8080,
        ),
    ),
    "py:sanic": (
        {"requirements.txt": "sanic\n", "main.py": "import x\n"},
        (
            "python",
            "sanic",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "python main.py",
            8000,
        ),
    ),
    "py:aiohttp": (
        {"requirements.txt": "aiohttp\n", "main.py": "import x\n"},
        (
            "python",
            "aiohttp",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "python main.py",
            8080,
        ),
    ),
    "py:tornado": (
        {"requirements.txt": "tornado\n", "main.py": "import x\n"},
        (
            "python",
            "tornado",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "python main.py",
            8888,
        ),
    ),
    "py:bottle": (
        {"requirements.txt": "bottle\n", "main.py": "import x\n"},
        (
            "python",
            "bottle",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "python main.py",
            8080,
        ),
    ),
    "py:quart": (
        {"requirements.txt": "quart\n", "main.py": "import x\n"},
        (
            "python",
            "quart",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "python main.py",
            5000,
        ),
    ),
    "py:nicegui": (
        {"requirements.txt": "nicegui\n", "main.py": "import x\n"},
        (
            "python",
            "nicegui",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "python main.py",
            8080,
        ),
    ),
    "py:panel": (
        {"requirements.txt": "panel\n", "main.py": "import x\n"},
        (
            "python",
            "panel",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "python main.py",
            5006,
        ),
    ),
    "py:fastapi": (
        {
            "requirements.txt": "fastapi\nuvicorn\n",
            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
        (
            "python",
            "fastapi",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "uvicorn main:app --host 0.0.0.0 --port 8000",
            8000,
        ),
    ),
    "py:starlette": (
        {
            "requirements.txt": "starlette\n",
            "main.py": "from starlette.applications import Starlette\napp = Starlette()\n",
        },
        (
            "python",
            "starlette",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "uvicorn main:app --host 0.0.0.0 --port 8000",
            8000,
        ),
    ),
    "py:flask": (
        {
            "requirements.txt": "flask\n",
            "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        },
        (
            "python",
            "flask",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "flask --app app:app run --host 0.0.0.0 --port 5000",
            5000,
        ),
    ),
    "py:flask-gunicorn": (
        {
            "requirements.txt": "flask\ngunicorn\n",
            "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        },
        (
            "python",
            "flask",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "gunicorn app:app --bind 0.0.0.0:5000",
            5000,
        ),
    ),
    "py:flask-noapp": (
        {"requirements.txt": "flask\n", "views.py": "x=1\n"},
        (
            "python",
            "flask",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "flask run --host 0.0.0.0 --port 5000",
            5000,
        ),
    ),
    "py:flask-runs-itself": (
        {
            "requirements.txt": "flask\n",
            "app.py": "from flask import Flask\napp = Flask(__name__)\nif __name__ == '__main__':\n    app.run(port=5000)\n",
        },
        (
            "python",
            "flask",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "python app.py",
            5000,
        ),
    ),
    "py:django": (
        {
            "requirements.txt": "Django\n",
            "manage.py": "#\n",
            "mysite/settings.py": "x=1\n",
            "mysite/wsgi.py": "application=1\n",
        },
        (
            "python",
            "django",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "python manage.py runserver 0.0.0.0:8000",
            8000,
        ),
    ),
    "py:django-gunicorn": (
        {
            "requirements.txt": "Django\ngunicorn\n",
            "manage.py": "#\n",
            "mysite/settings.py": "x=1\n",
            "mysite/wsgi.py": "application=1\n",
        },
        (
            "python",
            "django",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "gunicorn mysite.wsgi:application --bind 0.0.0.0:8000",
            8000,
        ),
    ),
    "py:django-sub": (
        {
            "requirements.txt": "django\ngunicorn\n",
            "src/manage.py": "#\n",
            "src/mysite/wsgi.py": "application=1\n",
        },
        (
            "python",
            "django",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "gunicorn --chdir src mysite.wsgi:application --bind 0.0.0.0:8000",
            8000,
        ),
    ),
    "py:celery": (
        {
            "requirements.txt": "celery\n",
            "tasks.py": "from celery import Celery\napp = Celery('t')\n",
        },
        (
            "python",
            "celery",
            "worker",
            "pip",
            "pip install -r requirements.txt",
            None,
            "celery -A tasks worker",
            None,
        ),
    ),
    "py:litestar-uvicorn": (
        {
            "requirements.txt": "litestar\nuvicorn\n",
            "main.py": "from litestar import Litestar\napp = Litestar([])\n",
        },
        (
            "python",
            "uvicorn",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "uvicorn main:app --host 0.0.0.0",
            8000,
        ),
    ),
    "py:falcon-gunicorn": (
        {
            "requirements.txt": "falcon\ngunicorn\n",
            "main.py": "import falcon\napp = falcon.App()\n",
        },
        (
            "python",
            "gunicorn",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "gunicorn main:app --bind 0.0.0.0:8000",
            8000,
        ),
    ),
    "py:hypercorn": (
        {"requirements.txt": "quartx\nhypercorn\n", "main.py": "import q\napp = q.App()\n"},
        (
            "python",
            "hypercorn",
            "web",
            "pip",
            "pip install -r requirements.txt",
            None,
            "hypercorn main:app --bind 0.0.0.0:8000",
            8000,
        ),
    ),
    "py:stdlib": (
        {
            ".python-version": "3.12\n",
            "server.py": "from http.server import HTTPServer\nif __name__=='__main__':\n    HTTPServer(('', 8000), H).serve_forever()\n",
        },
        ("python", "python", "web", "pip", None, None, "python server.py", 8000),
    ),
    "py:runtime.txt": (
        {"runtime.txt": "python-3.11.4\n", "bot.py": "print(1)\n"},
        ("python", None, "worker", "pip", None, None, "python bot.py", None),
    ),
    "py:tool-versions": (
        {".tool-versions": "python 3.12.1\n", "worker.py": "print(1)\n"},
        ("python", None, "worker", "pip", None, None, "python worker.py", None),
    ),
    "pm:uv.lock": (
        {
            "pyproject.toml": '[project]\nname="a"\ndependencies=["fastapi","uvicorn"]\n',
            "uv.lock": "x",
            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
        (
            "python",
            "fastapi",
            "web",
            "uv",
            "uv sync",
            None,
            "uv run uvicorn main:app --host 0.0.0.0 --port 8000",
            8000,
        ),
    ),
    "pm:poetry.lock": (
        {
            "pyproject.toml": '[project]\nname="a"\ndependencies=["fastapi","uvicorn"]\n',
            "poetry.lock": "x",
            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
        (
            "python",
            "fastapi",
            "web",
            "poetry",
            "poetry install --no-root",
            None,
            "poetry run uvicorn main:app --host 0.0.0.0 --port 8000",
            8000,
        ),
    ),
    "pm:Pipfile.lock": (
        {
            "pyproject.toml": '[project]\nname="a"\ndependencies=["fastapi","uvicorn"]\n',
            "Pipfile.lock": "x",
            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
        (
            "python",
            "fastapi",
            "web",
            "pipenv",
            "pipenv install --deploy",
            None,
            "pipenv run uvicorn main:app --host 0.0.0.0 --port 8000",
            8000,
        ),
    ),
    "pm:pdm.lock": (
        {
            "pyproject.toml": '[project]\nname="a"\ndependencies=["fastapi","uvicorn"]\n',
            "pdm.lock": "x",
            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
        (
            "python",
            "fastapi",
            "web",
            "pdm",
            "pdm install --prod",
            None,
            "pdm run uvicorn main:app --host 0.0.0.0 --port 8000",
            8000,
        ),
    ),
    "pm:Pipfile": (
        {
            "Pipfile": '[packages]\nfastapi="*"\n',
            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
        (
            "python",
            "fastapi",
            "web",
            "pipenv",
            "pipenv install --deploy",
            None,
            "pipenv run uvicorn main:app --host 0.0.0.0 --port 8000",
            8000,
        ),
    ),
    "pm:tool.poetry": (
        {
            "pyproject.toml": '[project]\nname="a"\ndependencies=["fastapi"]\n[tool.poetry]\nx=1\n',
            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
        (
            "python",
            "fastapi",
            "web",
            "poetry",
            "poetry install --no-root",
            None,
            "poetry run uvicorn main:app --host 0.0.0.0 --port 8000",
            8000,
        ),
    ),
    "pm:tool.pdm": (
        {
            "pyproject.toml": '[project]\nname="a"\ndependencies=["fastapi"]\n[tool.pdm]\nx=1\n',
            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
        (
            "python",
            "fastapi",
            "web",
            "pdm",
            "pdm install --prod",
            None,
            "pdm run uvicorn main:app --host 0.0.0.0 --port 8000",
            8000,
        ),
    ),
    "pm:tool.uv": (
        {
            "pyproject.toml": '[project]\nname="a"\ndependencies=["fastapi"]\n[tool.uv]\nx=1\n',
            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
        (
            "python",
            "fastapi",
            "web",
            "uv",
            "uv sync",
            None,
            "uv run uvicorn main:app --host 0.0.0.0 --port 8000",
            8000,
        ),
    ),
    "pm:pyproject-only": (
        {
            "pyproject.toml": '[project]\nname="a"\ndependencies=["fastapi"]\n',
            "main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
        (
            "python",
            "fastapi",
            "web",
            "pip",
            "pip install .",
            None,
            "uvicorn main:app --host 0.0.0.0 --port 8000",
            8000,
        ),
    ),
    "pm:setup.py": (
        {
            "setup.py": "from setuptools import setup\nsetup(install_requires=['flask'])\n",
            "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        },
        (
            "python",
            "flask",
            "web",
            "pip",
            "pip install .",
            None,
            "flask --app app:app run --host 0.0.0.0 --port 5000",
            5000,
        ),
    ),
    "rb:rails": (
        {"Gemfile": "gem 'rails'\n", "config.ru": "run X\n"},
        (
            "ruby",
            "rails",
            "web",
            "bundler",
            "bundle install",
            None,
            "bundle exec rails server -b 0.0.0.0",
            3000,
        ),
    ),
    "rb:rails-assets": (
        {"Gemfile": "gem 'rails'\ngem 'propshaft'\n"},
        (
            "ruby",
            "rails",
            "web",
            "bundler",
            "bundle install",
            "bundle exec rails assets:precompile",
            "bundle exec rails server -b 0.0.0.0",
            3000,
        ),
    ),
    "rb:sinatra-ru": (
        {"Gemfile": "gem 'sinatra'\n", "config.ru": "run X\n", "app.rb": "x\n"},
        (
            "ruby",
            "sinatra",
            "web",
            "bundler",
            "bundle install",
            None,
            "bundle exec rackup --host 0.0.0.0 -p 4567",
            4567,
        ),
    ),
    "rb:sinatra": (
        {"Gemfile": "gem 'sinatra'\n", "server.rb": "x\n"},
        (
            "ruby",
            "sinatra",
            "web",
            "bundler",
            "bundle install",
            None,
            "bundle exec ruby server.rb -o 0.0.0.0",
            4567,
        ),
    ),
    "rb:rack": (
        {"Gemfile": "gem 'puma'\n", "config.ru": "run X\n"},
        (
            "ruby",
            "rack",
            "web",
            "bundler",
            "bundle install",
            None,
            "bundle exec rackup --host 0.0.0.0",
            9292,
        ),
    ),
    "rb:plain": (
        {"Gemfile": "gem 'httparty'\n", "worker.rb": "x\n"},
        (
            "ruby",
            None,
            "worker",
            "bundler",
            "bundle install",
            None,
            "bundle exec ruby worker.rb",
            None,
        ),
    ),
    "php:laravel": (
        {"composer.json": '{"require": {"laravel/framework": "^11"}}', "artisan": "#!php\n"},
        (
            "php",
            "laravel",
            "web",
            "composer",
            "composer install --no-dev",
            None,
            "php artisan serve --host 0.0.0.0 --port 8000",
            8000,
        ),
    ),
    "php:symfony": (
        {"composer.json": '{"require": {"symfony/framework-bundle": "^7"}}'},
        (
            "php",
            "symfony",
            "web",
            "composer",
            "composer install --no-dev",
            None,
            "php -S 0.0.0.0:8000 -t public",
            8000,
        ),
    ),
    "php:plain-public": (
        {"composer.json": '{"require": {"monolog/monolog": "1"}}', "public/index.php": "<?php\n"},
        (
            "php",
            "php",
            "web",
            "composer",
            "composer install --no-dev",
            None,
            "php -S 0.0.0.0:8080 -t public",
            8080,
        ),
    ),
    "php:plain-root": (
        {"index.php": "<?php echo 1;\n"},
        ("php", "php", "web", None, None, None, "php -S 0.0.0.0:8080", 8080),
    ),
    "go:gin": (
        {
            "go.mod": "module x\n\ngo 1.22\n\nrequire github.com/gin-gonic/gin v1.0.0\n",
            "main.go": "package main\nfunc main(){}\n",
        },
        ("go", "gin", "web", "go", "go mod download", "go build -o app .", "./app", 8080),
    ),
    "go:echo": (
        {
            "go.mod": "module x\n\ngo 1.22\n\nrequire github.com/labstack/echo/v4 v1.0.0\n",
            "main.go": "package main\nfunc main(){}\n",
        },
        ("go", "echo", "web", "go", "go mod download", "go build -o app .", "./app", 1323),
    ),
    "go:fiber": (
        {
            "go.mod": "module x\n\ngo 1.22\n\nrequire github.com/gofiber/fiber/v2 v1.0.0\n",
            "main.go": "package main\nfunc main(){}\n",
        },
        ("go", "fiber", "web", "go", "go mod download", "go build -o app .", "./app", 3000),
    ),
    "go:chi": (
        {
            "go.mod": "module x\n\ngo 1.22\n\nrequire github.com/go-chi/chi/v5 v1.0.0\n",
            "main.go": "package main\nfunc main(){}\n",
        },
        ("go", "chi", "web", "go", "go mod download", "go build -o app .", "./app", 8080),
    ),
    "go:nethttp": (
        {
            "go.mod": "module x\n\ngo 1.22\n",
            "main.go": 'package main\nimport "net/http"\nfunc main(){ http.ListenAndServe(addr, nil) }\n',
        },
        ("go", "net/http", "web", "go", "go mod download", "go build -o app .", "./app", 8080),
    ),
    "go:cmd": (
        {"go.mod": "module x\n\ngo 1.22\n", "cmd/server/main.go": "package main\nfunc main(){}\n"},
        (
            "go",
            None,
            "worker",
            "go",
            "go mod download",
            "go build -o app ./cmd/server",
            "./app",
            None,
        ),
    ),
    "rs:actix": (
        {
            "Cargo.toml": '[package]\nname="svc"\nversion="0.1.0"\n[dependencies]\nactix-web="1"\n',
            "src/main.rs": "fn main(){}\n",
        },
        (
            "rust",
            "actix",
            "web",
            "cargo",
            None,
            "cargo build --release",
            "./target/release/svc",
            8080,
        ),
    ),
    "rs:axum": (
        {
            "Cargo.toml": '[package]\nname="svc"\nversion="0.1.0"\n[dependencies]\naxum="1"\n',
            "src/main.rs": "fn main(){}\n",
        },
        (
            "rust",
            "axum",
            "web",
            "cargo",
            None,
            "cargo build --release",
            "./target/release/svc",
            3000,
        ),
    ),
    "rs:rocket": (
        {
            "Cargo.toml": '[package]\nname="svc"\nversion="0.1.0"\n[dependencies]\nrocket="1"\n',
            "src/main.rs": "fn main(){}\n",
        },
        (
            "rust",
            "rocket",
            "web",
            "cargo",
            None,
            "cargo build --release",
            "./target/release/svc",
            8000,
        ),
    ),
    "rs:warp": (
        {
            "Cargo.toml": '[package]\nname="svc"\nversion="0.1.0"\n[dependencies]\nwarp="1"\n',
            "src/main.rs": "fn main(){}\n",
        },
        (
            "rust",
            "warp",
            "web",
            "cargo",
            None,
            "cargo build --release",
            "./target/release/svc",
            3030,
        ),
    ),
    "rs:hyper": (
        {
            "Cargo.toml": '[package]\nname="svc"\nversion="0.1.0"\n[dependencies]\nhyper="1"\n',
            "src/main.rs": "fn main(){}\n",
        },
        (
            "rust",
            "hyper",
            "web",
            "cargo",
            None,
            "cargo build --release",
            "./target/release/svc",
            None,
        ),
    ),
    "rs:poem": (
        {
            "Cargo.toml": '[package]\nname="svc"\nversion="0.1.0"\n[dependencies]\npoem="1"\n',
            "src/main.rs": "fn main(){}\n",
        },
        (
            "rust",
            "poem",
            "web",
            "cargo",
            None,
            "cargo build --release",
            "./target/release/svc",
            None,
        ),
    ),
    "jvm:spring-maven": (
        {
            "pom.xml": "<project><parent><artifactId>spring-boot-starter-parent</artifactId></parent></project>"
        },
        (
            "java",
            "spring-boot",
            "web",
            "maven",
            None,
            "mvn -DskipTests package",
            "java -jar target/*.jar",
            8080,
        ),
    ),
    "jvm:spring-gradle-wrapper": (
        {
            "build.gradle.kts": 'plugins { id("org.springframework.boot") version "3" }\ndependencies { implementation("org.springframework.boot:spring-boot-starter-web") }\n',
            "gradlew": "#!/bin/sh\n",
        },
        (
            "java",
            "spring-boot",
            "web",
            "gradle",
            None,
            "./gradlew build -x test",
            "java -jar build/libs/*.jar",
            8080,
        ),
    ),
    "jvm:spring-mvnw": (
        {"pom.xml": "<project>spring-boot</project>", "mvnw": "#!/bin/sh\n"},
        (
            "java",
            "spring-boot",
            "web",
            "maven",
            None,
            "./mvnw -DskipTests package",
            "java -jar target/*.jar",
            8080,
        ),
    ),
    "jvm:quarkus-maven": (
        {"pom.xml": "<project><groupId>io.quarkus</groupId></project>"},
        (
            "java",
            "quarkus",
            "web",
            "maven",
            None,
            "mvn -DskipTests package",
            "java -jar target/quarkus-app/quarkus-run.jar",
            8080,
        ),
    ),
    "jvm:quarkus-gradle": (
        {"build.gradle": "plugins { id 'io.quarkus' }\n"},
        (
            "java",
            "quarkus",
            "web",
            "gradle",
            None,
            "gradle build -x test",
            "java -jar build/quarkus-app/quarkus-run.jar",
            8080,
        ),
    ),
    "jvm:micronaut": (
        {"build.gradle": "plugins { id 'io.micronaut.application' }\nmicronaut { }\n"},
        (
            "java",
            "micronaut",
            "web",
            "gradle",
            None,
            "gradle build -x test",
            "java -jar build/libs/*.jar",
            8080,
        ),
    ),
    "jvm:javalin": (
        {"build.gradle": "dependencies { implementation 'io.javalin:core:1' }\n"},
        (
            "java",
            "javalin",
            "web",
            "gradle",
            None,
            "gradle build -x test",
            "java -jar build/libs/*.jar",
            8080,
        ),
    ),
    "jvm:ktor": (
        {"build.gradle": "dependencies { implementation 'io.ktor:core:1' }\n"},
        (
            "java",
            "ktor",
            "web",
            "gradle",
            None,
            "gradle build -x test",
            "java -jar build/libs/*.jar",
            8080,
        ),
    ),
    "jvm:vertx": (
        {"build.gradle": "dependencies { implementation 'io.vertx:core:1' }\n"},
        (
            "java",
            "vertx",
            "web",
            "gradle",
            None,
            "gradle build -x test",
            "java -jar build/libs/*.jar",
            8080,
        ),
    ),
    "jvm:spark": (
        {"build.gradle": "dependencies { implementation 'com.sparkjava:core:1' }\n"},
        (
            "java",
            "spark",
            "web",
            "gradle",
            None,
            "gradle build -x test",
            "java -jar build/libs/*.jar",
            4567,
        ),
    ),
    "jvm:helidon": (
        {"build.gradle": "dependencies { implementation 'io.helidon:core:1' }\n"},
        (
            "java",
            "helidon",
            "web",
            "gradle",
            None,
            "gradle build -x test",
            "java -jar build/libs/*.jar",
            8080,
        ),
    ),
    "jvm:dropwizard": (
        {"build.gradle": "dependencies { implementation 'io.dropwizard:core:1' }\n"},
        (
            "java",
            "dropwizard",
            "web",
            "gradle",
            None,
            "gradle build -x test",
            "java -jar build/libs/*.jar",
            8080,
        ),
    ),
    "jvm:http4k": (
        {"build.gradle": "dependencies { implementation 'org.http4k:core:1' }\n"},
        (
            "java",
            "http4k",
            "web",
            "gradle",
            None,
            "gradle build -x test",
            "java -jar build/libs/*.jar",
            8080,
        ),
    ),
    "jvm:jetty": (
        {"build.gradle": "dependencies { implementation 'org.eclipse.jetty:core:1' }\n"},
        (
            "java",
            "jetty",
            "web",
            "gradle",
            None,
            "gradle build -x test",
            "java -jar build/libs/*.jar",
            8080,
        ),
    ),
    "jvm:kotlin": (
        {"build.gradle.kts": 'plugins { kotlin("jvm") }\n'},
        (
            "kotlin",
            None,
            "worker",
            "gradle",
            None,
            "gradle build -x test",
            "java -jar build/libs/*.jar",
            None,
        ),
    ),
    "dotnet:web": (
        {"Api.csproj": '<Project Sdk="Microsoft.NET.Sdk.Web"></Project>'},
        (
            "csharp",
            "aspnetcore",
            "web",
            "dotnet",
            "dotnet restore",
            "dotnet publish -c Release -o out",
            "dotnet out/Api.dll",
            8080,
        ),
    ),
    "dotnet:console": (
        {"Tool.csproj": '<Project Sdk="Microsoft.NET.Sdk"></Project>'},
        (
            "csharp",
            None,
            "worker",
            "dotnet",
            "dotnet restore",
            "dotnet publish -c Release -o out",
            "dotnet out/Tool.dll",
            None,
        ),
    ),
    "dotnet:fsharp": (
        {"App.fsproj": '<Project Sdk="Microsoft.NET.Sdk.Web"></Project>'},
        (
            "fsharp",
            "aspnetcore",
            "web",
            "dotnet",
            "dotnet restore",
            "dotnet publish -c Release -o out",
            "dotnet out/App.dll",
            8080,
        ),
    ),
    "ex:phoenix": (
        {"mix.exs": 'defp deps do [{:phoenix, "~> 1.7"}] end\n'},
        (
            "elixir",
            "phoenix",
            "web",
            "mix",
            "mix deps.get",
            "mix do deps.get, assets.deploy, release",
            "mix phx.server",
            4000,
        ),
    ),
    "ex:plug": (
        {"mix.exs": 'defp deps do [{:plug_cowboy, "~> 2.0"}] end\n'},
        (
            "elixir",
            "plug",
            "web",
            "mix",
            "mix deps.get",
            "mix do deps.get, compile",
            "mix run --no-halt",
            None,
        ),
    ),
    "ex:plain": (
        {"mix.exs": "defp deps do [] end\n"},
        (
            "elixir",
            None,
            "worker",
            "mix",
            "mix deps.get",
            "mix do deps.get, compile",
            "mix run --no-halt",
            None,
        ),
    ),
    "deno:fresh": (
        {
            "deno.json": '{"imports":{"$fresh/":"https://x"},"tasks":{"start":"deno run -A main.ts","build":"deno run -A dev.ts build"}}'
        },
        ("deno", "fresh", "web", "deno", None, "deno task build", "deno task start", 8000),
    ),
    "deno:hono": (
        {"deno.json": '{"imports":{"hono":"npm:hono"}}', "main.ts": "x\n"},
        (
            "deno",
            "hono",
            "web",
            "deno",
            None,
            None,
            "deno run --allow-net --allow-env --allow-read main.ts",
            8000,
        ),
    ),
    "deno:oak": (
        {"deno.json": '{"imports":{"oak":"jsr:@oak/oak"}}', "server.ts": "x\n"},
        (
            "deno",
            "oak",
            "web",
            "deno",
            None,
            None,
            "deno run --allow-net --allow-env --allow-read server.ts",
            8000,
        ),
    ),
    "deno:plain": (
        {"deno.json": "{}", "mod.ts": "Deno.serve(() => new Response('x'))\n"},
        (
            "deno",
            "deno",
            "web",
            "deno",
            None,
            None,
            "deno run --allow-net --allow-env --allow-read mod.ts",
            8000,
        ),
    ),
    "deno:worker": (
        {"deno.jsonc": "{}", "main.ts": "console.log(1)\n"},
        (
            "deno",
            None,
            "worker",
            "deno",
            None,
            None,
            "deno run --allow-net --allow-env --allow-read main.ts",
            None,
        ),
    ),
    "hugo": (
        {"hugo.toml": 'baseURL = "https://x"\n', "content/a.md": "x\n"},
        ("html", "hugo", "static", None, None, "hugo --minify", None, None),
    ),
    "jekyll": (
        {"_config.yml": "title: x\n", "Gemfile": "gem 'jekyll'\n", "index.md": "x\n"},
        (
            "html",
            "jekyll",
            "static",
            "bundler",
            "bundle install",
            "bundle exec jekyll build",
            None,
            None,
        ),
    ),
    "static": (
        {"index.html": "<html></html>\n"},
        ("html", "static", "static", None, None, None, None, None),
    ),
    "astro-node": (
        {"package.json": '{"name": "app", "dependencies": {"astro": "1", "@astrojs/node": "1"}}'},
        (
            "javascript",
            "astro",
            "web",
            "npm",
            "npm install",
            None,
            "node ./dist/server/entry.mjs",
            4321,
        ),
    ),
    "astro-node-own-server": (
        {
            "package.json": '{"name": "app", "dependencies": {"astro": "1", "@astrojs/node": "1"}, "scripts": {"start": "node server.mjs"}}'
        },
        ("javascript", "astro", "web", "npm", "npm install", None, "npm start", 4321),
    ),
    "sk-static": (
        {
            "package.json": '{"name": "app", "dependencies": {"@sveltejs/kit": "1", "@sveltejs/adapter-static": "1"}}'
        },
        ("javascript", "sveltekit", "static", "npm", "npm install", None, None, None),
    ),
    "next-export": (
        {
            "package.json": '{"name": "app", "dependencies": {"next": "1"}}',
            "next.config.mjs": "export default { output: 'export' }\n",
        },
        ("javascript", "nextjs", "static", "npm", "npm install", None, None, None),
    ),
    "vite-preview": (
        {
            "package.json": '{"name": "app", "dependencies": {"vite": "1"}, "scripts": {"build": "vite build", "start": "vite preview --host"}}'
        },
        ("javascript", "vite", "web", "npm", "npm install", "npm run build", "npm start", 4173),
    ),
    "cra-serve": (
        {
            "package.json": '{"name": "app", "dependencies": {"react-scripts": "1"}, "scripts": {"build": "react-scripts build", "start": "serve -s build"}}'
        },
        (
            "javascript",
            "create-react-app",
            "web",
            "npm",
            "npm install",
            "npm run build",
            "npm start",
            3000,
        ),
    ),
    "bun-serve": (
        {
            "package.json": '{"name": "app", "dependencies": {"@types/bun": "1"}}',
            "index.ts": "Bun.serve({ fetch() { return new Response('x') } })\n",
        },
        ("typescript", "bun", "web", "npm", "npm install", None, None, 3000),
    ),
    "node-http": (
        {
            "package.json": '{"name": "app", "dependencies": {}}',
            "server.js": "const http = require('http')\nhttp.createServer((q, s) => s.end()).listen(process.env.PORT)\n",
        },
        ("javascript", "node", "web", "npm", "npm install", None, "node server.js", None),
    ),
    "ts": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "scripts": {"start": "node dist/index.js"}}',
            "tsconfig.json": "{}",
        },
        ("typescript", "express", "web", "npm", "npm install", None, "npm start", 3000),
    ),
    "procfile": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "scripts": {"start": "node a.js"}}',
            "Procfile": "web: node server.js --port 4000\n",
        },
        (
            "javascript",
            "express",
            "web",
            "npm",
            "npm install",
            None,
            "node server.js --port 4000",
            4000,
        ),
    ),
    "start-prod": (
        {
            "package.json": '{"name": "app", "dependencies": {"@nestjs/core": "1"}, "scripts": {"start": "nest start", "start:prod": "node dist/main"}}'
        },
        ("javascript", "nestjs", "web", "npm", "npm install", None, "npm run start:prod", 3000),
    ),
    "main": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "main": "lib/server.js"}'
        },
        ("javascript", "express", "web", "npm", "npm install", None, "node lib/server.js", 3000),
    ),
    "entry": (
        {"package.json": '{"name": "app", "dependencies": {"express": "1"}}', "app.js": "x\n"},
        ("javascript", "express", "web", "npm", "npm install", None, "node app.js", 3000),
    ),
    "listen": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "scripts": {"start": "node index.js"}}',
            "index.js": "app.listen(8081)\n",
        },
        ("javascript", "express", "web", "npm", "npm install", None, "npm start", 8081),
    ),
    "env-port": (
        {
            "package.json": '{"name": "app", "dependencies": {"express": "1"}, "scripts": {"start": "node index.js"}}',
            "index.js": "const port = process.env.PORT || 5050\n",
        },
        ("javascript", "express", "web", "npm", "npm install", None, "npm start", 5050),
    ),
    "lt:project.clj": (
        {"project.clj": '(defproject x :dependencies [[ring "1"]])'},
        (
            "clojure",
            "ring",
            "web",
            "leiningen",
            None,
            "lein uberjar",
            "java -jar target/uberjar/*-standalone.jar",
            3000,
        ),
    ),
    "lt:deps.edn": (
        {"deps.edn": "{:deps {http-kit/http-kit {}}}"},
        ("clojure", "http-kit", "web", "clojure-cli", None, None, "clojure -M -m main", 8080),
    ),
    "lt:build.sbt": (
        {"build.sbt": 'libraryDependencies += "org.http4s" %% "http4s-core" % "1"'},
        (
            "scala",
            "http4s",
            "web",
            "sbt",
            None,
            "sbt stage",
            "target/universal/stage/bin/app",
            8080,
        ),
    ),
    "lt:stack.yaml": (
        {"stack.yaml": "resolver: x\n"},
        ("haskell", None, "worker", "stack", None, "stack build", "stack exec app", None),
    ),
    "lt:stack.yaml+package.yaml": (
        {
            "stack.yaml": "resolver: lts-22.0\n",
            "package.yaml": "dependencies:\n- yesod\nexecutables:\n  hello:\n    main: Main.hs\n",
        },
        ("haskell", "yesod", "web", "stack", None, "stack build", "stack exec hello", 3000),
    ),
    "lt:stack.yaml+app.cabal": (
        {"stack.yaml": "resolver: x\n", "app.cabal": "executable srv\n  build-depends: servant\n"},
        ("haskell", "servant", "web", "stack", None, "stack build", "stack exec srv", None),
    ),
    "lt:app.cabal": (
        {"app.cabal": "executable app-exe\n  build-depends: scotty\n"},
        ("haskell", "scotty", "web", "cabal", None, "cabal build", "cabal run app-exe", None),
    ),
    "lt:Package.swift": (
        {"Package.swift": "// vapor\n"},
        (
            "swift",
            "vapor",
            "web",
            "swiftpm",
            None,
            "swift build -c release",
            "swift run -c release",
            8080,
        ),
    ),
    "lt:pubspec.yaml": (
        {"pubspec.yaml": "dependencies:\n  shelf: ^1\n"},
        (
            "dart",
            "shelf",
            "web",
            "pub",
            None,
            "dart compile exe bin/server.dart -o server",
            "./server",
            8080,
        ),
    ),
    "lt:shard.yml": (
        {"shard.yml": "targets:\n  web:\n    main: src/web.cr\ndependencies:\n  kemal:\n"},
        ("crystal", "kemal", "web", "shards", None, "shards build --release", "./bin/web", 3000),
    ),
    "lt:gleam.toml": (
        {"gleam.toml": '[dependencies]\nwisp = "1"\n'},
        ("gleam", "wisp", "web", "gleam", None, "gleam export erlang-shipment", "gleam run", None),
    ),
    "lt:build.zig": (
        {"build.zig": 'const exe = b.addExecutable(.{ .name = "srv" }); // zap\n'},
        (
            "zig",
            "zap",
            "web",
            "zig",
            None,
            "zig build -Doptimize=ReleaseSafe",
            "./zig-out/bin/srv",
            3000,
        ),
    ),
    "lt:CMakeLists.txt": (
        {"CMakeLists.txt": "add_executable(svc main.cpp)\n"},
        (
            "cpp",
            None,
            "worker",
            "cmake",
            None,
            "cmake -B build && cmake --build build",
            "./build/svc",
            None,
        ),
    ),
    "lt:meson.build": (
        {"meson.build": "project('x', 'c')\nexecutable('tool', 'a.c')\n"},
        (
            "c",
            None,
            "worker",
            "meson",
            None,
            "meson setup build && meson compile -C build",
            "./build/tool",
            None,
        ),
    ),
    "lt:app.nimble": (
        {"app.nimble": 'bin = @["app"]\nrequires "jester"\n'},
        ("nim", "jester", "web", "nimble", None, "nimble build -d:release", "./app", 5000),
    ),
    "lt:play": (
        {
            "build.sbt": 'addSbtPlugin("com.typesafe.play" % "sbt-plugin" % "2")\nenablePlugins(PlayScala)\n'
        },
        ("scala", "play", "web", "sbt", None, "sbt stage", "target/universal/stage/bin/app", 9000),
    ),
    "lt:flutter": (
        {"pubspec.yaml": "dependencies:\n  flutter:\n    sdk: flutter\n"},
        ("dart", "flutter", "static", "pub", None, "flutter build web", None, None),
    ),
    "lt:lucky": (
        {"shard.yml": "dependencies:\n  lucky:\n"},
        ("crystal", "lucky", "web", "shards", None, "shards build --release", None, 3000),
    ),
    "lt:prologue": (
        {"x.nimble": 'requires "prologue"\n'},
        ("nim", "prologue", "web", "nimble", None, "nimble build -d:release", None, 8080),
    ),
    "lt:pedestal": (
        {"deps.edn": "{:deps {io.pedestal/pedestal.service {}}}"},
        ("clojure", "pedestal", "web", "clojure-cli", None, None, "clojure -M -m main", 8080),
    ),
    "lt:akka": (
        {"build.sbt": '"com.typesafe.akka" %% "akka-http" % "10"'},
        (
            "scala",
            "akka-http",
            "web",
            "sbt",
            None,
            "sbt stage",
            "target/universal/stage/bin/app",
            8080,
        ),
    ),
    "lt:hummingbird": (
        {"Package.swift": "// hummingbird\n"},
        (
            "swift",
            "hummingbird",
            "web",
            "swiftpm",
            None,
            "swift build -c release",
            "swift run -c release",
            8080,
        ),
    ),
    "lt:dart_frog": (
        {"pubspec.yaml": "dependencies:\n  dart_frog: ^1\n"},
        (
            "dart",
            "dart_frog",
            "web",
            "pub",
            None,
            "dart compile exe bin/server.dart -o server",
            "./server",
            8080,
        ),
    ),
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_app_per_framework_is_detected_with_its_defaults(case: str, tmp_path: Path) -> None:
    files, expected = CASES[case]
    root = tmp_path / "app"
    _write(root, files)
    analysis = analyze(root, environment="production")
    assert analysis.refusal is None
    (service,) = analysis.services
    profile = profile_of(service)
    found = (
        profile.language,
        service.framework.value if service.framework else None,
        profile.type,
        profile.package_manager,
        profile.install_command,
        profile.build_command,
        profile.start_command,
        profile.port,
    )
    assert found == expected


# Where the Procfile's port differs from the row's: the row's own process named the port
# (`--port 4000`), or the row's port came only from the server in the composed command.
PROCFILE_PORTS: dict[str, int | None] = {
    "procfile": 3000,
    "py:falcon-gunicorn": None,
    "py:hypercorn": None,
    "py:litestar-uvicorn": None,
}


@pytest.mark.parametrize("case", sorted(c for c in CASES if CASES[c][1][2] == "web"))
def test_a_procfile_command_without_a_port_keeps_the_framework_default(
    case: str, tmp_path: Path
) -> None:
    """The start command's port outranks a framework's default; when the command (a Procfile
    `web:` process) names none, the framework's documented default port is what remains."""
    files, expected = CASES[case]
    root = tmp_path / "app"
    _write(root, {**files, "Procfile": "web: ./bin/run\n"})
    (service,) = analyze(root).services
    assert service.start_command is not None
    assert service.start_command.value == "./bin/run"
    assert (service.port.port if service.port else None) == PROCFILE_PORTS.get(case, expected[7])


def test_a_haskell_database_is_read_from_the_package_description(tmp_path: Path) -> None:

    (tmp_path / "stack.yaml").write_text("resolver: lts-22.0\n")
    (tmp_path / "package.yaml").write_text("dependencies:\n- yesod\n- persistent-postgresql\n")
    analysis = analyze(tmp_path)
    assert [(d.type, d.evidence.file) for d in analysis.dependencies] == [
        ("postgres", "package.yaml")
    ]
    (service,) = analysis.services
    assert service.framework is not None
    assert (service.framework.value, service.framework.file) == ("yesod", "package.yaml")
