"""The SQS work message between the scheduler (or admin) and the refresh worker."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from ads_connect.models.records import TenantId
from ads_connect.regions import Region


class WorkKind(StrEnum):
    REFRESH = "refresh"
    PROFILE_SYNC = "profile_sync"


class WorkMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: WorkKind
    tenant_id: TenantId
    region: Region
    trigger: str = "schedule"
