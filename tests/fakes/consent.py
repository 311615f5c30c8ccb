"""In-memory ``ConsentStore``: sessions, states and results keyed by the hash of their id,
like the DynamoDB adapter, with the same single-use ``consume_state``."""

from __future__ import annotations

import threading
from datetime import datetime

from ads_connect.logic.ids import id_hash
from ads_connect.models.consent import ConnectResultRecord, ConnectSessionRecord, OAuthStateRecord


class MemoryConsentStore:
    def __init__(self) -> None:
        self.sessions: dict[str, ConnectSessionRecord] = {}
        self.states: dict[str, OAuthStateRecord] = {}
        self.results: dict[str, ConnectResultRecord] = {}
        # session hash -> (claim id, claimed until), as the adapter's claim_id / claimed_until
        self.claims: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

    def put_session(self, session_id: str, record: ConnectSessionRecord) -> None:
        self.sessions[id_hash(session_id)] = record

    def get_session(self, session_id: str) -> ConnectSessionRecord | None:
        return self.get_session_by_hash(id_hash(session_id))

    def get_session_by_hash(self, session_hash: str) -> ConnectSessionRecord | None:
        return self.sessions.get(session_hash)

    def claim_session(self, session_hash: str, *, claim_id: str, now: datetime, until: datetime) -> bool:
        with self._lock:
            session = self.sessions.get(session_hash)
            if session is None or session.used_at is not None or session.revoked_at is not None:
                return False
            claim = self.claims.get(session_hash)
            if claim is not None and claim[1] > now:
                return False
            self.claims[session_hash] = (claim_id, until)
            return True

    def release_session_claim(self, session_hash: str, *, claim_id: str) -> None:
        with self._lock:
            claim = self.claims.get(session_hash)
            if claim is not None and claim[0] == claim_id:
                del self.claims[session_hash]

    def mark_session_used(self, session_hash: str, *, used_at: datetime) -> None:
        with self._lock:
            if session_hash in self.sessions:
                self.sessions[session_hash] = self.sessions[session_hash].replace(used_at=used_at)
                self.claims.pop(session_hash, None)

    def list_sessions(self, tenant_id: str) -> list[tuple[str, ConnectSessionRecord]]:
        return [(h, s) for h, s in self.sessions.items() if s.tenant_id == tenant_id]

    def revoke_session(self, session_hash: str, *, revoked_at: datetime) -> bool:
        with self._lock:
            session = self.sessions.get(session_hash)
            if session is None or session.used_at is not None or session.revoked_at is not None:
                return False
            self.sessions[session_hash] = session.replace(revoked_at=revoked_at)
            return True

    def put_state(self, state: str, record: OAuthStateRecord) -> None:
        self.states[id_hash(state)] = record

    def consume_state(self, state: str) -> OAuthStateRecord | None:
        with self._lock:
            return self.states.pop(id_hash(state), None)

    def put_result(self, result_id: str, record: ConnectResultRecord) -> None:
        self.results[id_hash(result_id)] = record

    def get_result(self, result_id: str) -> ConnectResultRecord | None:
        return self.results.get(id_hash(result_id))
