"""Tokens, guest registration and binding behave as SKILL.md and api-schemas.md describe."""

from __future__ import annotations

import re

import httpx

from opendeploy_plan.platform import TOKEN_RE, bind_url
from tests.emulator.helpers import Api, guest_api, register


def test_dashboard_token_has_the_documented_shape_and_reads_profile(live_gateway) -> None:
    assert TOKEN_RE.match(live_gateway.dashboard_token)
    assert live_gateway.dashboard_token.startswith("od_k")
    profile = Api(live_gateway, live_gateway.dashboard_token).ok(
        Api(live_gateway, live_gateway.dashboard_token).get("/v1/profile")
    )
    assert {"id", "email", "plan"} <= profile.keys()


def test_malformed_unknown_and_missing_tokens_are_401_with_an_error_body(live_gateway) -> None:
    wrong_kind = "od_x" + "A" * 43
    unknown = "od_k" + "A" * 43
    short = "od_k" + "A" * 42
    for headers in (
        {},
        {"Authorization": f"Bearer {wrong_kind}"},
        {"Authorization": f"Bearer {unknown}"},
        {"Authorization": f"Bearer {short}"},
        {"Authorization": f"Token {live_gateway.dashboard_token}"},
    ):
        response = httpx.get(f"{live_gateway.base_url}/v1/regions/", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]


def test_register_returns_a_pending_guest_credential(live_gateway) -> None:
    body = register(live_gateway, source_hint="claude-code/Linux", name="  my laptop  ")
    assert re.fullmatch(r"od_a[0-9A-Za-z]{43}", body["api_key"])
    assert body["gateway"] == live_gateway.base_url
    assert body["name"] == "my laptop"
    assert body["expires_in_seconds"] == 6 * 3600
    assert re.fullmatch(r"[0-9a-f]{64}", body["bind_sig"])
    assert body["bind_url"] == bind_url(live_gateway.base_url, body["guest_id"], body["bind_sig"])


def test_register_rejects_a_name_longer_than_64_characters(live_gateway) -> None:
    response = httpx.post(
        f"{live_gateway.base_url}/v1/client-guests/register", json={"name": "x" * 65}
    )
    assert response.status_code == 400


def test_register_replays_the_same_guest_without_api_key_for_the_same_ip_and_agent(
    live_gateway,
) -> None:
    first = register(live_gateway, user_agent="agent/1")
    again = register(live_gateway, user_agent="agent/1")
    other = register(live_gateway, user_agent="agent/2")
    assert again["guest_id"] == first["guest_id"]
    assert "api_key" not in again
    assert other["guest_id"] != first["guest_id"] and "api_key" in other


def test_register_replay_window_is_24_hours(live_gateway) -> None:
    first = register(live_gateway, user_agent="agent/1")
    live_gateway.clock.advance(24 * 3600 + 1)
    later = register(live_gateway, user_agent="agent/1")
    assert later["guest_id"] != first["guest_id"]
    assert "api_key" in later


def test_register_is_limited_to_5_per_hour_per_ip_with_retry_after(live_gateway) -> None:
    for i in range(5):
        register(live_gateway, user_agent=f"agent/{i}")
    live_gateway.clock.advance(600)
    response = httpx.post(
        f"{live_gateway.base_url}/v1/client-guests/register",
        json={},
        headers={"User-Agent": "agent/x"},
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 3000
    assert response.json()["error"]
    live_gateway.clock.advance(3001)
    register(live_gateway, user_agent="agent/y")


def test_profile_is_401_for_an_unbound_guest_but_regions_work(live_gateway) -> None:
    guest, _ = guest_api(live_gateway)
    assert guest.get("/v1/profile").status_code == 401
    assert guest.get("/v1/regions/").status_code == 200


def test_guest_status_needs_the_bind_signature(live_gateway) -> None:
    guest, body = guest_api(live_gateway)
    url = f"/v1/client-guests/{body['guest_id']}/status"
    status = guest.ok(guest.get(url, params={"h": body["bind_sig"]}))
    assert status["state"] == "pending" and status["name"]
    assert status["expires_at"] and status["last_deployed_at"] is None
    assert guest.get(url, params={"h": "0" * 64}).status_code == 401


def test_binding_lifts_the_guest_to_the_user_and_moves_its_project(live_gateway) -> None:
    guest, body = guest_api(live_gateway)
    project = guest.project()
    dashboard = Api(live_gateway, live_gateway.dashboard_token)
    bound = dashboard.ok(
        dashboard.post(
            f"/v1/client-guests/{body['guest_id']}/bind",
            json={"sig": body["bind_sig"], "name": "work laptop"},
        )
    )
    assert bound["project_ids"] == [project["id"]] and bound["name"] == "work laptop"
    me = dashboard.ok(dashboard.get("/v1/profile"))
    assert guest.ok(guest.get("/v1/profile"))["id"] == me["id"]
    projects = dashboard.ok(dashboard.get("/v1/projects/"))["data"]
    assert [p["id"] for p in projects] == [project["id"]]
    listed = dashboard.ok(dashboard.get("/v1/client-guests"))["data"]
    assert [g["guest_id"] for g in listed] == [body["guest_id"]]
    assert listed[0]["source_user_agent"] == "tests"


def test_bind_rejects_a_bad_signature_and_a_guest_caller(live_gateway) -> None:
    guest, body = guest_api(live_gateway)
    dashboard = Api(live_gateway, live_gateway.dashboard_token)
    url = f"/v1/client-guests/{body['guest_id']}/bind"
    assert dashboard.post(url, json={"sig": "f" * 64}).status_code == 401
    assert guest.post(url, json={"sig": body["bind_sig"]}).status_code == 401


def test_admin_bind_is_what_the_dashboard_does_after_sso(live_gateway) -> None:
    guest, body = guest_api(live_gateway)
    live_gateway.emulator.bind_guest(body["guest_id"])
    assert guest.get("/v1/profile").status_code == 200


def test_owner_can_rename_and_revoke_a_bound_guest(live_gateway) -> None:
    guest, body = guest_api(live_gateway)
    dashboard = Api(live_gateway, live_gateway.dashboard_token)
    dashboard.ok(
        dashboard.post(f"/v1/client-guests/{body['guest_id']}/bind", json={"sig": body["bind_sig"]})
    )
    url = f"/v1/client-guests/{body['guest_id']}"
    empty = dashboard.patch(url, json={"name": "   "})
    assert empty.status_code == 400 and empty.json()["error_code"] == "name_required"
    assert dashboard.ok(dashboard.patch(url, json={"name": "renamed"}))["name"] == "renamed"
    dashboard.ok(dashboard.delete(url))
    assert guest.get("/v1/regions/").status_code == 401


def test_minting_a_new_dashboard_token_for_a_user_revokes_the_old_one(live_gateway) -> None:
    emulator = live_gateway.emulator
    user = emulator.user_of_token(live_gateway.dashboard_token)
    fresh = emulator.mint_dashboard_token(user_id=user)
    assert Api(live_gateway, fresh).get("/v1/regions/").status_code == 200
    assert Api(live_gateway, live_gateway.dashboard_token).get("/v1/regions/").status_code == 401
