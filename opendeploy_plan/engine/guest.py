"""Is the credential an unbound guest? It decides the guest caps in planning and which branch
of the final report is shown (the binding URL, or the dashboard)."""

from __future__ import annotations

from opendeploy_plan.gateway import Credential, GatewayClient, Unauthorized

__all__ = ["is_unbound_guest", "unbound_bind_url"]


async def is_unbound_guest(client: GatewayClient, credential: Credential | None) -> bool:
    """True for a guest credential not linked to an account (`/v1/profile` answers 401)."""
    if credential is None or credential.kind != "guest":
        return False
    try:
        await client.profile()
    except Unauthorized:
        return True
    return False


async def unbound_bind_url(client: GatewayClient, credential: Credential | None) -> str:
    """The account-binding URL when the credential is an unbound guest, else ""."""
    if credential is not None and await is_unbound_guest(client, credential):
        return credential.bind_url or ""
    return ""
