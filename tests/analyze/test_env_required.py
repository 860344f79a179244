"""Which variables init marks required: only a read that fails when the variable is missing
(`os.environ["X"]`, Ruby's `ENV.fetch("X")` without a default, Rust's `env!`), or an example
file listing it without a value. A read with a fallback (`os.getenv`, `os.environ.get`,
`ENV["X"]`, `process.env.X`) leaves it optional (analyze-local.md: "when unsure, required:
false"). The manifest says TODO only for the required ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendeploy_plan.analyze import analyze, render_manifest

APPS = {
    "python": {
        "requirements.txt": "flask\n",
        "app.py": (
            "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
            'UP = os.environ["UPSTREAM_URL"]\nFLAG = os.getenv("FEATURE_FLAG")\n'
            'OTHER = os.environ.get("OTHER_URL", "x")\n'
            'if __name__ == "__main__":\n    app.run(host="0.0.0.0", port=5000)\n'
        ),
    },
    "ruby": {
        "Gemfile": "source 'https://rubygems.org'\ngem 'sinatra'\n",
        "app.rb": (
            "require 'sinatra'\nUP = ENV.fetch('UPSTREAM_URL')\nFLAG = ENV['FEATURE_FLAG']\n"
            "OTHER = ENV.fetch('OTHER_URL', 'x')\n"
        ),
    },
    "node": {
        "package.json": '{"name": "n", "dependencies": {"express": "4"}, '
        '"scripts": {"start": "node index.js"}}\n',
        "index.js": (
            "const app = require('express')();\nconst flag = process.env.FEATURE_FLAG;\n"
            "const other = process.env.OTHER_URL || 'x';\napp.listen(3000);\n"
        ),
        ".env.example": "UPSTREAM_URL=\n",
    },
}


@pytest.mark.parametrize("language", sorted(APPS))
def test_only_reads_that_fail_without_the_variable_make_it_required(
    language: str, tmp_path: Path
) -> None:
    for name, text in APPS[language].items():
        (tmp_path / name).write_text(text)
    analysis = analyze(tmp_path, environment="production")
    (service,) = analysis.services
    required = {v.name: v.required for v in service.env}
    assert required == {"UPSTREAM_URL": True, "FEATURE_FLAG": False, "OTHER_URL": False}
    manifest = render_manifest(analysis, environment="production")
    assert '# UPSTREAM_URL: ""  # TODO required, no value found' in manifest
    assert "# FEATURE_FLAG: no value found; set one if it is needed" in manifest
