"""Which gateway a command talks to, in the documented order: `--gateway`, then `OD_GATEWAY`,
then the gateway the manifest's folder was last applied to (`.opendeploy/gateway.json`), then
(resolved further) the auth file's and the default. The first line of output names the source
the same way."""

from __future__ import annotations

from pathlib import Path

from opendeploy_plan.cli.options import GatewayChoice
from opendeploy_plan.engine.link import write_link

LINKED = "https://linked.example/api"
FROM_ENV = "https://env.example/api"
FLAG = "https://flag.example/api"


def test_the_flag_then_the_environment_then_the_folder_link(tmp_path: Path) -> None:
    write_link(tmp_path, LINKED)
    in_folder = GatewayChoice(folder=tmp_path)
    env = {"OD_GATEWAY": FROM_ENV}
    assert GatewayChoice(gateway=FLAG, folder=tmp_path).resolved_gateway(env) == FLAG
    assert GatewayChoice(gateway=FLAG, folder=tmp_path).source(env) == "--gateway"
    assert in_folder.resolved_gateway(env) == FROM_ENV
    assert in_folder.source(env) == "OD_GATEWAY"
    assert in_folder.resolved_gateway({}) == LINKED
    assert in_folder.source({}).startswith("remembered in .opendeploy/gateway.json")
    assert in_folder.resolved_gateway({"OD_GATEWAY": ""}) == LINKED


def test_nothing_chosen_is_resolved_further(tmp_path: Path) -> None:
    choice = GatewayChoice(folder=tmp_path)
    assert choice.resolved_gateway({}) is None
    assert choice.source({}) == "default"
    assert not choice.is_local({})
    assert choice.is_local({"OD_GATEWAY": "local"})
