"""The CDK side of Amazon Ads Connect: one reusable construct and a thin stack around it.

The stack imports the runtime's own contracts (``ads_connect.table_schema``, the ``ENV_*``
names in ``ads_connect.models.settings``) so the deployed resources cannot drift from the code.
Those live under ``lambdas/``, which is not an installed package, so it goes on ``sys.path`` here.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = REPO_ROOT / "lambdas"

if str(LAMBDAS_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDAS_DIR))
