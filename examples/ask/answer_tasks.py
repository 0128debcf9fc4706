"""The task that answers questions, served by a Python worker:

    python -m taskwire serve ask.answer_tasks:answer_question      (from examples/)

It answers from taskwire's own docs (README.md and docs/*.md; KNOWLEDGE_DIR to point
elsewhere), ranked by BM25, and needs no network.
"""

from __future__ import annotations

import os
from pathlib import Path

from taskwire import task

from ask.knowledge_base import load_knowledge_base

# Indexed once per worker, when it starts: a few hundred passages, a fraction of a second.
KNOWLEDGE = load_knowledge_base(Path(os.environ.get("KNOWLEDGE_DIR", Path(__file__).resolve().parents[2])))


@task(name="answerQuestion")
def answer_question(question: str) -> dict:
    """The passage of the docs that best answers the question, where it is, and what else to read.

    Raises:
        LookupError: no passage shares a word with the question; the caller sees a failed run.
    """
    found = KNOWLEDGE.search(question)
    if not found:
        raise LookupError(f"nothing in the docs matches {question!r}; try other words")
    (score, best), *others = found
    return {
        "question": question,
        "answer": best.text,
        "source": f"{best.source} › {best.heading}" if best.heading else best.source,
        "score": round(score, 2),
        "seeAlso": [f"{p.source} › {p.heading}" for _, p in others],
    }
