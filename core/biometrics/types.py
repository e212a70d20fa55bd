"""Biometric workflows' inputs: references only. Templates never travel through Temporal."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class TemplateRef:
    tenant_id: str
    student_id: str
    finger: int


@dataclass(frozen=True)
class Outstanding:
    tenant_id: str
    student_id: str
    action: str  # load | delete


@dataclass(frozen=True)
class ErasureRequest:
    tenant_id: str
    student_id: str
    reason: str
    actor: str


def load_workflow_id(ref: TemplateRef) -> str:
    return (
        f"biometric-load-{ref.tenant_id}-{student_key(ref.tenant_id, ref.student_id)}-{ref.finger}"
    )


def erase_workflow_id(tenant: str, student: str) -> str:
    return f"biometric-erase-{tenant}-{student_key(tenant, student)}"


def student_key(tenant: str, student: str) -> str:
    """A student's stand-in in workflow ids, which Temporal stores in plaintext (payloads it
    stores sealed): the same for the same student, the student id not readable from it."""
    return hashlib.sha256(f"{tenant}\x00{student}".encode()).hexdigest()[:24]
