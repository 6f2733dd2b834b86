"""Who is staff: the staff login, the staff API token, and whether the app may start.

The staff view shows the retrieval details behind every answer and the articles
themselves; ``POST /api/ask`` returns the same details only to staff credentials. An app
reachable from other machines must not serve that view to anyone who finds it, so
``exposure_problem`` refuses such a start unless the operator says it is intended.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress

from ..settings import Settings

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _secret(settings: Settings) -> str:
    return settings.staff_password.get_secret_value() if settings.staff_password else ""


def staff_login_required(settings: Settings) -> bool:
    """Both a staff user and a non-empty password are set."""
    return bool(settings.staff_user and _secret(settings))


def login_problem(settings: Settings) -> str | None:
    """What is wrong with a half-configured login (one of the two set), or None."""
    user, password = bool(settings.staff_user), bool(_secret(settings))
    if user and not password:
        return "SKINQA_STAFF_USER is set but SKINQA_STAFF_PASSWORD is empty or unset"
    if password and not user:
        return "SKINQA_STAFF_PASSWORD is set but SKINQA_STAFF_USER is empty or unset"
    return None


def check_login(settings: Settings, user: str, password: str) -> bool:
    """Constant-time check of the staff credentials; False when none are configured."""
    if not staff_login_required(settings):
        return False
    assert settings.staff_user is not None
    # Compare both fields every time (no short-circuit), so timing shows neither.
    user_ok = hmac.compare_digest((user or "").encode("utf-8"), settings.staff_user.encode("utf-8"))
    password_ok = hmac.compare_digest(
        (password or "").encode("utf-8"), _secret(settings).encode("utf-8")
    )
    return user_ok and password_ok


def check_authorization(settings: Settings, header: str) -> bool:
    """An ``Authorization`` header carrying the staff token (``Bearer``) or the staff
    login (``Basic``), compared in constant time.

    >>> from pydantic import SecretStr
    >>> check_authorization(Settings(staff_token=SecretStr("s3cret")), "Bearer s3cret")
    True
    """
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer":
        token = settings.staff_token.get_secret_value() if settings.staff_token else ""
        # An unset token never matches, not even an empty one.
        ok = hmac.compare_digest(credential.encode("utf-8"), token.encode("utf-8"))
        return ok and bool(token)
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credential, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        return check_login(settings, user, password)
    return False


def is_loopback(host: str) -> bool:
    """Only this machine can connect to ``host`` (``0.0.0.0`` and names are not)."""
    host = host.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def staff_state(settings: Settings) -> str:
    """One line for the start-up report."""
    if staff_login_required(settings):
        state = f"staff view behind a login (user {settings.staff_user!r})"
    else:
        state = "staff view OPEN to anyone who can reach this address (no staff login set)"
    if settings.staff_token:
        state += "; staff API token set"
    return state


def exposure_problem(settings: Settings, host: str, allow_open_staff: bool) -> str | None:
    """Why the app must not start as configured, or None.

    A half-configured login is always refused (it is a typo, and it would leave the view
    open). An open staff view is refused when other machines can reach the app: bound
    to a non-loopback address, or behind a reverse proxy (``SKINQA_TRUSTED_PROXIES``
    set) - unless ``--allow-open-staff`` says that is intended.
    """
    half = login_problem(settings)
    if half:
        return f"{half}; set both to require a staff login, or neither"
    if staff_login_required(settings) or allow_open_staff:
        return None
    if not is_loopback(host):
        where = f"the non-loopback address {host!r}"
    elif settings.trusted_proxies:
        where = "a reverse proxy (SKINQA_TRUSTED_PROXIES is set)"
    else:
        return None
    return (
        f"refusing to serve the staff view without a login on {where}: anyone who can reach "
        "it would see the retrieval details and the articles. Set SKINQA_STAFF_USER and "
        "SKINQA_STAFF_PASSWORD, bind to 127.0.0.1, or pass --allow-open-staff if an open "
        "staff view is intended"
    )
