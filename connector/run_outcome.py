"""How a long background run (a sync, a history import) records that it failed.

Both runs keep a row (``SyncRun``, ``HistoryImport``) with a ``status`` and an ``error`` that
support reads in the admin. A known application error ends the run FAILED with its code and
detail; anything else ends it FAILED too and is raised again for the task's own handling.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from connector.exceptions import ApplicationError

logger = logging.getLogger(__name__)

ERROR_MAX_CHARS = 2000


@contextmanager
def failure_recorded(run: Any, *, what: str, portal_id: int) -> Iterator[None]:
    """Inside: the run's work. On an error, ``run.status`` becomes FAILED with ``run.error``."""
    try:
        yield
    except ApplicationError as exc:
        run.status = type(run).Status.FAILED
        run.error = f"{exc.code}: {exc.detail or exc.user_message}"[:ERROR_MAX_CHARS]
        logger.warning("%s of tenant %s failed: %s", what, portal_id, run.error)
    except Exception as exc:  # recorded, then raised for the task's own handling
        run.status = type(run).Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]
        logger.exception("%s of tenant %s crashed", what, portal_id)
        raise
