"""The dot and Mermaid graphs on hand-built plans: edges point from the need to the needer,
node ids follow plan order from n0, labels carry symbol, address and kind, and quotes,
backslashes, newlines, `&` and `<` in addresses cannot break out of a label."""

from __future__ import annotations

from opendeploy_plan.plan import Plan
from opendeploy_plan.plan.model import ActionKind, ActionReason, PlannedAction
from opendeploy_plan.render import render_dot, render_mermaid
from tests.plan.golden import quiet_plan


def _plan(*actions: PlannedAction) -> Plan:
    return quiet_plan(actions=actions)


DB = PlannedAction("dependency.db", ActionKind.CREATE, ActionReason.NEW)
WEB = PlannedAction(
    "service.web", ActionKind.DEPLOY, ActionReason.NEVER_DEPLOYED, depends_on=("dependency.db",)
)


def test_mermaid_ids_follow_plan_order_and_edges_run_from_need_to_needer() -> None:
    assert render_mermaid(_plan(DB, WEB)) == (
        "flowchart LR\n"
        '  n0["+ dependency.db (create)"]\n'
        '  n1["> service.web (deploy)"]\n'
        "  n0 --> n1\n"
    )


def test_dot_labels_carry_symbol_address_and_kind() -> None:
    text = render_dot(_plan(DB, WEB))
    assert '  "dependency.db" [label="+ dependency.db\\ncreate"];' in text
    assert '  "dependency.db" -> "service.web";' in text


def test_hostile_addresses_stay_inside_their_labels() -> None:
    odd = PlannedAction('service.a"b\\c\nd', ActionKind.UPDATE, ActionReason.ENV_CHANGED)
    dot = render_dot(_plan(odd))
    assert '  "service.a\\"b\\\\c\\nd" [label=' in dot
    assert "\nd" not in dot.replace("\n  ", "").replace("\n}", "")
    weird = PlannedAction('service.<a>&"b"', ActionKind.UPDATE, ActionReason.ENV_CHANGED)
    mermaid = render_mermaid(_plan(weird))
    assert '  n0["~ service.#lt;a>#amp;#quot;b#quot; (update)"]' in mermaid
