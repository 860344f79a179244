"""The deployment runner seam: the resource model asks its runner what a deployment does, and
the simulated runner's observation is a pure function of the record and the time."""

from __future__ import annotations

from typing import Any

from opendeploy_plan.emulator import EmulatorConfig, ManualClock, create_app, lifecycle
from opendeploy_plan.emulator.runner import (
    DeploymentOrder,
    DeploymentRecord,
    LogEntry,
    Observation,
    observe_simulated,
)
from opendeploy_plan.emulator.server import serve_in_thread
from tests.emulator.helpers import Api

DURATIONS = lifecycle.Durations(1.0, 2.0, 4.0, 2.0, 0.5)


def _record(run: dict[str, Any], **marks: float | None) -> DeploymentRecord:
    return DeploymentRecord(
        id="d1",
        created_at=100.0,
        cancelled_at=marks.get("cancelled_at"),
        rolled_back_at=marks.get("rolled_back_at"),
        run=run,
    )


def test_simulated_observation_is_a_pure_function_of_record_and_time() -> None:
    run = lifecycle.instant_failure(DURATIONS).to_json()
    record = _record(run)
    assert observe_simulated(record, 100.1) == observe_simulated(record, 100.1)
    assert observe_simulated(record, 100.1).status == "pending"
    failed = observe_simulated(record, 100.6)
    assert (failed.status, failed.progress, failed.completed_at) == ("failed", 10, 100.5)
    assert failed.error_msg == "Service failed to deploy"
    cancelled = observe_simulated(_record(run, cancelled_at=100.2), 100.3)
    assert (cancelled.status, cancelled.completed_at) == ("cancelled", 100.2)


class InstantRunner:
    """Another runner beside the simulation: succeeds at once, with one log line."""

    def __init__(self) -> None:
        self.started: list[DeploymentOrder] = []
        self.cancelled: list[str] = []
        self.stopped: list[str] = []

    def start(self, order: DeploymentOrder) -> dict[str, Any]:
        self.started.append(order)
        return {"runner": "instant", "service": order.service_name}

    def observe(self, record: DeploymentRecord, now: float) -> Observation:
        if record.cancelled_at is not None:
            return Observation("cancelled", 50, record.cancelled_at)
        return Observation("success", 100, record.created_at)

    def log_lines(self, record: DeploymentRecord, now: float) -> list[LogEntry] | None:
        line = {"timestamp": "t", "level": "info", "phase": "building", "message": "built"}
        return [(record.created_at, line)]

    def service_log_lines(self, service_id: str, now: float) -> list[LogEntry] | None:
        return None

    def cancel(self, record: DeploymentRecord, now: float) -> None:
        self.cancelled.append(record.id)

    def stop(self, deployment_id: str) -> None:
        self.stopped.append(deployment_id)


def test_another_runner_carries_deployments_out_over_the_same_resource_model() -> None:
    runner = InstantRunner()
    app = create_app(EmulatorConfig(clock=ManualClock()), runner=runner)
    token = app.state.emulator.mint_dashboard_token()
    with serve_in_thread(app) as root:
        gateway = type("G", (), {"base_url": f"{root}/api"})()
        api = Api(gateway, token)
        pid, sid, temp = api.ready_service()
        deployment = api.ok(
            api.post(
                "/v1/deployments/",
                json={
                    "project_id": pid,
                    "service_id": sid,
                    "environment": "production",
                    "source": "zip",
                    "temp_file_path": temp,
                },
            ),
            201,
        )
        assert deployment["status"] == "success"
        assert runner.started[0].service_id == sid and runner.started[0].source_root
        logs = api.ok(api.get(f"/v1/deployments/{deployment['id']}/logs"))
        assert [x["message"] for x in logs["logs"]] == ["built"]
        assert api.ok(api.get(f"/v1/services/{sid}"))["status"] == "running"
        api.ok(api.delete(f"/v1/projects/{pid}"))
        assert runner.stopped == [deployment["id"]]
