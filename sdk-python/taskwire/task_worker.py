"""``from taskwire.task_worker import serve``: where Prefect users find it
(``from prefect.task_worker import serve``)."""

from taskwire.serve import serve

__all__ = ["serve"]
