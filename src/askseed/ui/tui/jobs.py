"""The chat's engine jobs, run one at a time and in order.

The engine answers one thing at a time, and a question asked while the model loads or while
the index is updated must wait its turn rather than be dropped. Pure Python: no Textual.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass
class QuestionJob:
    question: str
    query: str  # what to search: the question, or the question joined to the one it follows
    number: int  # which exchange of the transcript shows it (AskseedApp.views)


@dataclass
class ReindexJob:
    rebuild: bool = False
    # Set off by the folder changing, not by ctrl+r: updates only if the index is stale, and
    # says `why` in the status line.
    why: str = ""


Job = QuestionJob | ReindexJob


class JobQueue:
    def __init__(self) -> None:
        self.waiting: deque[Job] = deque()
        self.running: Job | None = None

    @property
    def busy(self) -> bool:
        return self.running is not None or bool(self.waiting)

    def add(self, job: Job) -> None:
        self.waiting.append(job)

    def start_next(self) -> Job | None:
        """The next job, now running; None while one runs or none waits."""
        if self.running is not None or not self.waiting:
            return None
        self.running = self.waiting.popleft()
        return self.running

    def finish(self) -> None:
        self.running = None

    def reindexing(self) -> bool:
        """A re-index runs or waits: a second one would do the same work again."""
        jobs = [self.running, *self.waiting]
        return any(isinstance(job, ReindexJob) for job in jobs)

    def reindex_waiting(self) -> bool:
        """A re-index waits its turn: it will see any change made until it starts."""
        return any(isinstance(job, ReindexJob) for job in self.waiting)

    def drop_waiting(self) -> list[Job]:
        dropped = list(self.waiting)
        self.waiting.clear()
        return dropped
