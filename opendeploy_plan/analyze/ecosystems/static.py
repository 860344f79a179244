"""Static sites: Hugo, Jekyll (source or built `_site/`) and plain `index.html`."""

from __future__ import annotations

import re

from opendeploy_plan.analyze.model import Detection, Fact
from opendeploy_plan.analyze.repo import RepoView, join, relative_to


def detect_hugo(view: RepoView, folder: str) -> Detection | None:
    config = view.first_existing(
        folder, "hugo.toml", "hugo.yaml", "hugo.json", "config.toml", "config.yaml"
    )
    if config is None:
        return None
    text = view.read(config) or ""
    hugo_layout = any(
        view.glob(folder, f"{part}/*") for part in ("content", "layouts", "themes", "archetypes")
    )
    if not (config.rsplit("/", 1)[-1].startswith("hugo.") or ("baseURL" in text and hugo_layout)):
        return None
    return Detection(
        language=Fact("html", config, "Hugo site configuration"),
        framework=Fact("hugo", config, "Hugo configuration with content/layouts"),
        build_command=Fact("hugo --minify", config, "Hugo builds into public/", "medium"),
        kind="static",
        output_directory="public",
    )


def detect_jekyll(view: RepoView, folder: str) -> Detection | None:
    config = view.first_existing(folder, "_config.yml", "_config.yaml")
    gemfile = view.read(join(folder, "Gemfile")) or ""
    built = view.first_existing(folder, "_site/index.html")
    if config is None and built is None:
        return None
    if config is None and built is not None:
        return Detection(
            language=Fact("html", built, "built Jekyll output"),
            framework=Fact("jekyll", built, "_site/ holds a built Jekyll site", "medium"),
            kind="static",
            output_directory="_site",
        )
    if "jekyll" not in gemfile and "github-pages" not in gemfile and built is None:
        return None
    detection = Detection(
        language=Fact("html", str(config), "Jekyll site configuration"),
        framework=Fact(
            "jekyll", join(folder, "Gemfile") if gemfile else str(config), "gem 'jekyll'"
        ),
        package_manager=Fact("bundler", join(folder, "Gemfile"), "Gemfile") if gemfile else None,
        build_command=Fact(
            "bundle exec jekyll build", str(config), "Jekyll builds into _site/", "medium"
        ),
        kind="static",
        output_directory="_site",
    )
    return detection


def detect_plain_static(view: RepoView, folder: str) -> Detection | None:
    """A folder of HTML: an `index.html`, a `Staticfile` or `static.json` (their root if set)
    or `public/`."""
    staticfile = view.first_existing(folder, "Staticfile")
    root = None
    if staticfile is not None:
        match = re.search(r"^\s*root:\s*(\S+)", view.read(staticfile) or "", re.M)
        root = match.group(1).strip("/") if match else "."
        evidence = staticfile
    static_json = view.first_existing(folder, "static.json")
    if root is None and static_json is not None:
        # Heroku's static buildpack: `{"root": "dist/"}`.
        configured = (view.json(static_json) or {}).get("root")
        if isinstance(configured, str):
            root = configured.strip("/") or "."
            evidence = static_json
    index = view.first_existing(folder, "index.html", "public/index.html")
    if root is None and index is None:
        return None
    if root is None:
        root = index.rsplit("/", 1)[0] if index and "/" in relative_to(folder, index) else "."
        root = "public" if root != "." else "."
        evidence = str(index)
    return Detection(
        language=Fact("html", evidence, "static files with no build manifest", "medium"),
        framework=Fact("static", evidence, "plain HTML"),
        kind="static",
        output_directory=root,
    )
