"""Record Celery task failures where support can see them (admin → Échecs de tâches)."""

from __future__ import annotations

import logging
import traceback as tb
from typing import Any

from connector.logging import mask_text, mask_value

logger = logging.getLogger(__name__)


def record_task_failure(
    *, sender: Any = None, task_id: str | None = None, exception: BaseException | None = None,
    args: Any = None, kwargs: Any = None, einfo: Any = None, **_: Any,
) -> None:  # fmt: skip
    """``task_failure`` signal handler. Never raises: a failing recorder must not hide the failure."""
    from connector.models import TaskFailure

    try:
        text = str(einfo.traceback) if einfo is not None else "".join(tb.format_exception(exception))
        TaskFailure.objects.create(
            task_name=str(getattr(sender, "name", sender))[:200],
            task_id=str(task_id or "")[:64],
            args=mask_value([list(args or []), dict(kwargs or {})]),
            exception_type=type(exception).__name__[:200] if exception is not None else "",
            message=mask_text(str(exception or ""))[:5000],
            traceback=mask_text(text)[-20000:],
        )
    except Exception:
        logger.exception("could not record the failure of task %s", task_id)
