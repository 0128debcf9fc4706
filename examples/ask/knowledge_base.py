"""A small local knowledge base: taskwire's own docs, cut into passages, ranked by BM25.

No network and no model: the answer to a question is the passage of the docs that ranks
first for it (rank_bm25's BM25Okapi, the ranking search engines have used since the 90s),
with where it comes from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rank_bm25 import BM25Okapi

# Words that say nothing about what a question is about; left in, they outweigh the rest
# in short questions like "how do I cancel a run?".
STOPWORDS = frozenset(
    "a an and are as at be by can do does for from how i if in is it its me my of on or so "
    "that the their then there this to was what when where which who why will with you your".split()
)


@dataclass(frozen=True)
class Passage:
    source: str
    heading: str
    text: str


def tokenize(text: str) -> list[str]:
    """Lower-case words without stopwords, their endings cut so that cancel, cancels,
    cancelled and cancelling are one word."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [_stem(word) for word in words if word not in STOPWORDS]


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    if len(word) > 4 and word[-1] == word[-2] and word[-1] in "lpt":
        word = word[:-1]
    return word


def split_passages(source: str, markdown: str) -> list[Passage]:
    """One passage per paragraph, under the nearest heading; a code block stays with the
    paragraph before it, which says what the code does."""
    passages: list[Passage] = []
    heading = ""
    lines: list[str] = []
    in_code = False

    def flush() -> None:
        text = "\n".join(lines).strip()
        lines.clear()
        if not text:
            return
        if text.startswith("```") and passages and passages[-1].heading == heading:
            text = f"{passages.pop().text}\n\n{text}"
        passages.append(Passage(source, heading, text))

    for line in markdown.splitlines():
        if line.startswith("```"):
            if not in_code:
                flush()
            in_code = not in_code
            lines.append(line)
            if not in_code:
                flush()
        elif in_code:
            lines.append(line)
        elif line.startswith("#"):
            flush()
            heading = line.lstrip("#").strip()
        elif not line.strip():
            flush()
        else:
            lines.append(line)
    flush()
    return passages


class KnowledgeBase:
    def __init__(self, files: list[Path], root: Path) -> None:
        self.passages = [
            passage
            for file in files
            for passage in split_passages(str(file.relative_to(root)), file.read_text(encoding="utf-8"))
        ]
        if not self.passages:
            raise ValueError(f"the knowledge base is empty: no passages in {[str(f) for f in files]}")
        # The heading counts too: "Cancellation" above a passage says what it is about.
        self.index = BM25Okapi([tokenize(f"{p.heading}\n{p.text}") for p in self.passages])

    def search(self, question: str, top: int = 3) -> list[tuple[float, Passage]]:
        """The best passages for the question, best first; only those that share a word with it."""
        scores = self.index.get_scores(tokenize(question))
        ranked = sorted(zip(scores, range(len(self.passages))), key=lambda pair: -pair[0])
        return [(float(score), self.passages[i]) for score, i in ranked[:top] if score > 0]


def load_knowledge_base(directory: Path) -> KnowledgeBase:
    """The README.md and docs/*.md under `directory` (the repository's root by default)."""
    files = [directory / "README.md", *sorted((directory / "docs").glob("*.md"))]
    return KnowledgeBase([file for file in files if file.exists()], directory)
