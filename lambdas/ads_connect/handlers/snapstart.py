"""Lambda SnapStart runtime hooks of the public functions (consent, callback).

Their published versions are snapshotted after initialization and every new execution
environment resumes from that snapshot (docs/decisions.md, "Cold starts"). The hooks:

- before the snapshot, build what the first request would build (settings, adapters, boto3
  clients), so a restored environment starts with them. Nothing in that path opens a network
  connection (bench/bench_cold_start.py runs it behind a socket guard), so the snapshot holds no
  connection that restored environments would share. The boto3 clients' credentials are
  refreshable: on SnapStart functions Lambda hands them out through the container credentials
  endpoint, which botocore re-reads when they expire.
- after each restore, reseed ``random``: environments resumed from one snapshot would otherwise
  draw the same backoff jitter (``logic/backoff.py``). Secrets, states and ids come from
  ``secrets``/``os.urandom``, which the snapshot does not fix.

``snapshot_restore_py`` ships with Lambda's Python runtimes only; elsewhere (tests, local mode)
there is no snapshot and nothing to register.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
from functools import cache
from typing import Final

from ads_connect.handlers.dependencies import public_dependencies

HOOKS_MODULE: Final = "snapshot_restore_py"


def before_snapshot() -> None:
    public_dependencies()


def after_restore() -> None:
    random.seed()  # from os.urandom: a stream of its own per restored environment


@cache  # once per process, whichever public handler imports it
def register_hooks() -> bool:
    """Register the hooks with the Lambda runtime; False where the runtime offers no snapshots."""
    if importlib.util.find_spec(HOOKS_MODULE) is None:
        return False
    hooks = importlib.import_module(HOOKS_MODULE)
    hooks.register_before_snapshot(before_snapshot)
    hooks.register_after_restore(after_restore)
    return True
