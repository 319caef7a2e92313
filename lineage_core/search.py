"""Fuzzy search over table names, datasets, labels, owners and the SQL files that write them.

Each table gets one lower-cased search text per field; a query is answered by a substring
pass (cheap, catches the common "I know part of the name" case) and then rapidfuzz's C
scorer over the remaining candidates. Built once per document and reused across queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from lineage_core.models import LineageDocument


@dataclass(frozen=True)
class SearchHit:
    id: str
    score: float
    matched: str  # the field and text that matched, e.g. "owner: data@acme"


class SearchIndex:
    def __init__(self, entries: Iterable[tuple[str, str, str]]) -> None:
        """``entries``: (table id, field name, text)."""
        self._ids: list[str] = []
        self._fields: list[str] = []
        self._texts: list[str] = []
        for table_id, field, text in entries:
            if not text:
                continue
            self._ids.append(table_id)
            self._fields.append(field)
            self._texts.append(text.lower())

    @classmethod
    def from_ids(cls, ids: Iterable[str]) -> SearchIndex:
        return cls((i, "name", i) for i in ids)

    @classmethod
    def from_document(cls, document: LineageDocument) -> SearchIndex:
        def entries() -> Iterable[tuple[str, str, str]]:
            for node in document.nodes:
                yield node.id, "name", node.id
                if node.dataset:
                    yield node.id, "dataset", node.dataset
                for key, value in node.labels.items():
                    yield node.id, "label", f"{key}={value}"
                for owner in node.owners:
                    yield node.id, "owner", owner
                if node.description:
                    yield node.id, "description", node.description
            for query in document.queries:
                for target in query.targets:
                    yield target, "file", query.path

        return cls(entries())

    def __len__(self) -> int:
        return len(self._texts)

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        text = query.strip().lower()
        if not text:
            return []
        best: dict[str, SearchHit] = {}

        def offer(index: int, score: float) -> None:
            table_id = self._ids[index]
            # names beat other fields at equal score: the user most likely typed a name
            bonus = 0.5 if self._fields[index] == "name" else 0.0
            current = best.get(table_id)
            if current is None or score + bonus > current.score:
                best[table_id] = SearchHit(table_id, min(100.0, score + bonus), f"{self._fields[index]}: {self._texts[index]}")

        for index, candidate in enumerate(self._texts):
            position = candidate.find(text)
            if position >= 0:
                # whole-segment and prefix matches rank above matches inside a word
                ends_segment = position + len(text) == len(candidate) or not candidate[position + len(text)].isalnum()
                starts_segment = position == 0 or not candidate[position - 1].isalnum()
                score = 90.0 + 5.0 * starts_segment + 4.0 * ends_segment - min(len(candidate) - len(text), 100) / 100
                offer(index, score)
        if len(best) < limit:
            for _, score, index in process.extract(
                text, self._texts, scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=60, processor=None
            ):
                offer(index, min(float(score), 89.0))
        return sorted(best.values(), key=lambda h: (-h.score, h.id))[:limit]
