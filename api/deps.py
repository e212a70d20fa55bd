"""FastAPI dependencies: resources, the stores routes read and write through, the calling
principal, and role/scope authorisation.

Routes never run SQL: they take the stores they need (`directory: DirectoryDep`, …), each
declared once below and built over the API's pool (a store holds nothing but its clients).

Every route except health declares `Depends(RequireRoles(...))`. The dependency refuses a
missing or invalid token with 401, and a token of another role, or scoped to another tenant,
school or student than the path names, with 403. Tests walk every route to prove it.

The guardian's own routes (`/v1/guardian/...`, the portal's twins) answer as the portal's
pages do: a child the guardian does not look after is not found (404, `own_child`), so a
guardian learns nothing of other children, not even that they exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from activities.accounts import Accounts
from activities.alert_handoff.store import HandOffStore
from activities.biometrics.consents import Consents
from activities.biometrics.sensors import SensorCommands
from activities.biometrics.vault import TemplateVault
from activities.cases import Cases
from activities.dr.drills import Drills
from activities.dr.restores import Restores
from activities.monitoring.config_store import ConfigStore
from activities.monitoring.stored_evaluations import StoredEvaluations
from activities.payload_audit import PayloadAudit
from activities.wallet.directory import Directory
from activities.wallet.kiosk_keys import KioskKeys
from activities.wallet.kiosk_nonces import KioskNonces
from activities.wallet.office import SchoolOffice
from activities.wallet.payouts import Payouts
from activities.wallet.portal import Portal
from activities.wallet.refunds import Refunds
from activities.wallet.statements import Statements
from activities.web_sessions import SESSION_COOKIE, WebSessions
from api.resources import Resources
from core.security import InvalidToken, Principal, Role, decode_token
from core.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/token")


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ResourcesDep = Annotated[Resources, Depends(get_resources)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


# The stores' getters are coroutines only because FastAPI runs a plain function dependency
# in its thread pool, a hop per request for what is one constructor call.
async def get_accounts(resources: ResourcesDep) -> Accounts:
    return Accounts(resources.pool)


async def get_directory(resources: ResourcesDep) -> Directory:
    return Directory(resources.pool)


async def get_statements(resources: ResourcesDep) -> Statements:
    return Statements(resources.pool)


async def get_portal(resources: ResourcesDep, settings: SettingsDep) -> Portal:
    return Portal(resources.pool, settings.balance_cap_decimal)


async def get_refunds(resources: ResourcesDep) -> Refunds:
    return Refunds(resources.pool)


async def get_payouts(resources: ResourcesDep) -> Payouts:
    return Payouts(resources.pool)


async def get_school_office(resources: ResourcesDep) -> SchoolOffice:
    return SchoolOffice(resources.pool)


async def get_kiosk_keys(resources: ResourcesDep) -> KioskKeys:
    return KioskKeys(resources.pool)


async def get_kiosk_nonces(resources: ResourcesDep) -> KioskNonces:
    return KioskNonces(resources.valkey)


async def get_config_store(resources: ResourcesDep) -> ConfigStore:
    return ConfigStore(resources.pool)


async def get_stored_evaluations(resources: ResourcesDep) -> StoredEvaluations:
    return StoredEvaluations(resources.pool)


async def get_cases(resources: ResourcesDep) -> Cases:
    return Cases(resources.pool)


async def get_hand_off_store(resources: ResourcesDep) -> HandOffStore:
    return HandOffStore.from_settings(resources.pool, resources.settings)


async def get_consents(resources: ResourcesDep) -> Consents:
    return Consents(resources.pool)


async def get_sensor_commands(resources: ResourcesDep) -> SensorCommands:
    return SensorCommands(resources.pool)


async def get_drills(resources: ResourcesDep) -> Drills:
    return Drills(resources.pool)


async def get_restores(resources: ResourcesDep) -> Restores:
    return Restores(resources.pool)


async def get_template_vault(resources: ResourcesDep) -> TemplateVault:
    return TemplateVault(resources.pool, resources.keyring)


async def get_web_sessions(resources: ResourcesDep) -> WebSessions:
    return WebSessions(resources.valkey, resources.settings.token_ttl_seconds)


async def get_payload_audit(resources: ResourcesDep) -> PayloadAudit:
    return PayloadAudit(resources.pool)


AccountsDep = Annotated[Accounts, Depends(get_accounts)]
DirectoryDep = Annotated[Directory, Depends(get_directory)]
StatementsDep = Annotated[Statements, Depends(get_statements)]
PortalDep = Annotated[Portal, Depends(get_portal)]
RefundsDep = Annotated[Refunds, Depends(get_refunds)]
PayoutsDep = Annotated[Payouts, Depends(get_payouts)]
SchoolOfficeDep = Annotated[SchoolOffice, Depends(get_school_office)]
KioskKeysDep = Annotated[KioskKeys, Depends(get_kiosk_keys)]
KioskNoncesDep = Annotated[KioskNonces, Depends(get_kiosk_nonces)]
ConfigStoreDep = Annotated[ConfigStore, Depends(get_config_store)]
StoredEvaluationsDep = Annotated[StoredEvaluations, Depends(get_stored_evaluations)]
CasesDep = Annotated[Cases, Depends(get_cases)]
HandOffStoreDep = Annotated[HandOffStore, Depends(get_hand_off_store)]
ConsentsDep = Annotated[Consents, Depends(get_consents)]
SensorCommandsDep = Annotated[SensorCommands, Depends(get_sensor_commands)]
TemplateVaultDep = Annotated[TemplateVault, Depends(get_template_vault)]
DrillsDep = Annotated[Drills, Depends(get_drills)]
RestoresDep = Annotated[Restores, Depends(get_restores)]
WebSessionsDep = Annotated[WebSessions, Depends(get_web_sessions)]
PayloadAuditDep = Annotated[PayloadAudit, Depends(get_payload_audit)]


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"}
    )


def _principal_of(settings: Settings, token: str) -> Principal:
    try:
        return decode_token(
            token, secret=settings.resolved_jwt_secret(), issuer=settings.jwt_issuer
        )
    except InvalidToken as err:
        raise _unauthorized(f"invalid token: {err}") from err


def get_principal(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("a bearer token is required (get one from POST /auth/token)")
    return _principal_of(settings, credentials.credentials)


async def get_codec_principal(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    sessions: WebSessionsDep,
) -> Principal:
    """A bearer token (the CLI's `--codec-auth`), or else the console's session: the Temporal
    UI calls the codec from the browser and sends its cookies, never a Saku token."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return _principal_of(settings, credentials.credentials)
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise _unauthorized(
            "sign in at /sign-in (the Temporal UI then sends that session when its codec "
            "settings include cross-origin credentials), or pass a bearer token"
        )
    session = await sessions.get(session_id)
    if session is None:
        raise _unauthorized(
            "the console session has ended (signed out or expired): sign in again at "
            "/sign-in, or pass a bearer token"
        )
    return session.principal


class RequireRoles:
    """Allow only these roles, within the tenant/school/student the path names."""

    def __init__(self, *roles: Role) -> None:
        if not roles:
            raise ValueError("name at least one role")
        self.roles = frozenset(roles)

    def __call__(
        self, request: Request, principal: Annotated[Principal, Depends(get_principal)]
    ) -> Principal:
        return self.check(request, principal)

    def check(self, request: Request, principal: Principal) -> Principal:
        if principal.role not in self.roles:
            allowed = ", ".join(sorted(r.value for r in self.roles))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"role {principal.role.value!r} may not do this (allowed: {allowed})",
            )
        params = request.path_params
        tenant = params.get("tenant_id")
        if tenant is not None and tenant != principal.tenant:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="token is for another tenant")
        school = params.get("school_id")
        if school is not None and principal.school is not None and school != principal.school:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="token is for another school")
        student = params.get("student_id")
        if (
            student is not None
            and principal.role is Role.GUARDIAN
            and student not in principal.students
        ):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="this guardian is not linked to that student"
            )
        return principal


class RequireCodecRoles(RequireRoles):
    """`RequireRoles` for the codec endpoint, whose caller may come with the console's
    session instead of a token."""

    def __call__(
        self, request: Request, principal: Annotated[Principal, Depends(get_codec_principal)]
    ) -> Principal:
        return self.check(request, principal)


GuardianDep = Annotated[Principal, Depends(RequireRoles(Role.GUARDIAN))]
ChildId = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="One of the guardian's children (a student id their token lists)",
    ),
]


def own_child(principal: Principal, student_id: str) -> str:
    """The student, if this guardian looks after them (their token lists them); 404 for any
    other, whether it exists or not, in this tenant or another."""
    if principal.role is not Role.GUARDIAN or student_id not in principal.students:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"you have no child {student_id!r}")
    return student_id
