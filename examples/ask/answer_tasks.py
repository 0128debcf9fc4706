"""The task that answers questions, served by a Python worker:

    python -m taskwire serve ask.answer_tasks:answer_question      (from examples/)

It answers from taskwire's own docs (README.md and docs/*.md; KNOWLEDGE_DIR to point
elsewhere), ranked by BM25, and needs no network.
"""

from __future__ import annotations

import os
from pathlib import Path

from taskwire import task

from ask.knowledge_base import Passage, load_knowledge_base

# How many other sections "see also" names after the answer.
SEE_ALSO = 2

# Indexed once per worker, when it starts: a few hundred passages, a fraction of a second.
KNOWLEDGE = load_knowledge_base(Path(os.environ.get("KNOWLEDGE_DIR", Path(__file__).resolve().parents[2])))


@task(name="answerQuestion")
def answer_question(question: str) -> dict:
    """The passage of the docs that best answers the question, where it is, and what else to read.

    Raises:
        LookupError: no passage shares a word with the question; the caller sees a failed run.
    """
    # 10 candidates: a section cut into several passages fills several places in the
    # ranking, and "see also" names two sections, none of them the answer's own.
    found = KNOWLEDGE.search(question, top=10)
    if not found:
        raise LookupError(f"nothing in the docs matches {question!r}; try other words")
    (score, best), *others = found
    source = _place(best)
    see_also: list[str] = []
    for _, passage in others:
        place = _place(passage)
        if place != source and place not in see_also and len(see_also) < SEE_ALSO:
            see_also.append(place)
    return {
        "question": question,
        "answer": best.text,
        "source": source,
        "score": round(score, 2),
        "seeAlso": see_also,
    }


def _place(passage: Passage) -> str:
    """Where a passage is: `docs/protocol.md › 6.7 Cancel`."""
    return f"{passage.source} › {passage.heading}" if passage.heading else passage.source
