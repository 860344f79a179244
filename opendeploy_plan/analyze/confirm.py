"""What `init` asks the user to confirm, and how an answer changes the analysis.

Detection never guesses a port: when it cannot tell (no port, two candidates, a program that
may or may not serve HTTP) the service is marked, and on a terminal `init` asks. The answers are
applied here, purely; the CLI only prompts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from opendeploy_plan.analyze.model import Analysis, PortCandidate, ServiceAnalysis

ANSWER_FILE = "your answer"
PORT_MAX = 65535


@dataclass(frozen=True)
class Question:
    """One question about one service. `allow_empty`: an empty answer means "no port" (it
    stays a worker); otherwise an empty answer leaves the TODO in the manifest."""

    service: str
    topic: Literal["port", "type"]
    prompt: str
    choices: tuple[int, ...] = ()
    allow_empty: bool = True


def questions(analysis: Analysis) -> list[Question]:
    """The questions to ask, in service order."""
    asked: list[Question] = []
    for service in analysis.services:
        if service.kind == "web" and service.port is None:
            choices = tuple(c.port for c in service.port_ambiguous)
            hint = f" (one of {', '.join(map(str, choices))})" if choices else ""
            asked.append(
                Question(
                    service.name,
                    "port",
                    f"{service.name}: which port does it listen on{hint}? (empty: decide later)",
                    choices,
                )
            )
        elif service.kind == "worker" and any(c.startswith("type:") for c in service.confirm):
            asked.append(
                Question(
                    service.name,
                    "type",
                    f"{service.name}: no HTTP server was found. If it serves HTTP, which port? "
                    "(empty: a worker with no port)",
                )
            )
    return asked


def apply_answer(analysis: Analysis, question: Question, text: str) -> None:
    """Apply one answer; ValueError with a message the user can act on for a bad one."""
    service = _service(analysis, question.service)
    text = text.strip()
    if not text:
        if question.topic == "type":
            service.confirm = [c for c in service.confirm if not c.startswith("type:")]
            service.notes.append("confirmed at `odplan init`: a worker with no port")
        return
    if not text.isdigit() or not 1 <= int(text) <= PORT_MAX:
        raise ValueError(f"{text!r} is not a port (1-{PORT_MAX})")
    port = int(text)
    service.kind = "web"
    service.port = PortCandidate(port, 0, ANSWER_FILE, "answered at `odplan init`")
    service.port_confidence = "high"
    service.port_ambiguous = ()
    service.confirm = [c for c in service.confirm if not c.startswith(("port:", "type:"))]


def _service(analysis: Analysis, name: str) -> ServiceAnalysis:
    return next(s for s in analysis.services if s.name == name)


def needs_confirmation(service: ServiceAnalysis) -> list[str]:
    """What the user should confirm before deploying: what detection could not tell."""
    confirm: list[str] = []
    if service.language is None or service.language.value == "unknown":
        confirm.append("language: could not be told")
    elif service.language.confidence == "low":
        confirm.append(f"language: {service.language.value} ({service.language.reason})")
    if service.kind == "web" and service.port is None:
        confirm.append("port: the port the service listens on")
    if service.kind == "worker" and any("treated as a worker" in n for n in service.notes):
        confirm.append("type: worker (no HTTP server found); a web service needs a port")
    if service.kind != "static" and service.start_command is None and service.dockerfile is None:
        confirm.append("start command: none found")
    return confirm
