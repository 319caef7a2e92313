"""Fuzzy search over table names, datasets, labels, owners and the SQL files that write them.

Built once per document and reused across queries; a 100,000-table document answers in a few
milliseconds. Three ideas keep it fast:

- Texts are deduplicated: a dataset, label or owner shared by 10,000 tables is one entry that
  points at its tables, and a query scores each distinct text once.
- The substring pass ("I know part of the name") runs in C: every text is joined into one
  newline-separated string and searched with ``str.find``; only matches are looked at in Python.
- The fuzzy pass (typos) corrects each word of the query to its nearest words in the
  *vocabulary* of all texts (split at ``. _ - / @ = :`` and spaces) with rapidfuzz's C scorer,
  and runs the substring pass again on the corrected query. The vocabulary is far smaller than
  the texts and its words are short, so this stays cheap too.

Results expand texts into tables in score order and stop once ``limit`` tables are certain, so
a query matching a label of half the warehouse still costs only ``limit`` hits.
"""

from __future__ import annotations

import heapq
import itertools
import re
import threading
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from lineage_core.models import LineageDocument

_WORD_SPLIT = re.compile(r"[\s._\-/@=:`,]+")
# Looking at more substring matches than this costs more than it changes the ranking: the query
# is too unspecific for the first page of results to be meaningful either way.
_MAX_SUBSTRING_MATCHES = 8_000
_FUZZY_CUTOFF = 70.0
_CORRECTIONS = 3  # nearest words tried per misspelled word
_MAX_VARIANTS = 12
_TOKENS = re.compile(r"([\s._\-/@=:`,]+)")


@dataclass(frozen=True)
class SearchHit:
    id: str
    score: float
    matched: str  # the field and text that matched, e.g. "owner: data@acme"


def _words(text: str) -> list[str]:
    return [w for w in _WORD_SPLIT.split(text) if w]


class SearchIndex:
    def __init__(self, entries: Iterable[tuple[str, str, str]]) -> None:
        """``entries``: (table id, field name, text)."""
        table_index: dict[str, int] = {}
        self._tables: list[str] = []
        entry_index: dict[tuple[str, str], int] = {}
        self._fields: list[str] = []
        self._texts: list[str] = []
        self._members: list[list[int]] = []  # entry → table numbers
        for table_id, field, text in entries:
            if not text:
                continue
            table = table_index.get(table_id)
            if table is None:
                table = table_index[table_id] = len(self._tables)
                self._tables.append(table_id)
            key = (field, text.lower())
            entry = entry_index.get(key)
            if entry is None:
                entry = entry_index[key] = len(self._texts)
                self._fields.append(field)
                self._texts.append(key[1])
                self._members.append([table])
            else:
                members = self._members[entry]
                if members[-1] != table:
                    members.append(table)
        # one string to search in C; entry k starts at self._starts[k]
        self._starts: list[int] = []
        position = 0
        for text in self._texts:
            self._starts.append(position)
            position += len(text) + 1
        self._haystack = "\n".join(self._texts)
        self._words: tuple[list[str], frozenset[str]] | None = None
        self._words_lock = threading.Lock()

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

    def warm(self, background: bool = False) -> None:
        """Build what the first typo-tolerant query needs now (or in a thread), not during a search."""
        if background:
            threading.Thread(target=self._vocabulary, name="search-vocabulary", daemon=True).start()
        else:
            self._vocabulary()

    # -- scoring ---------------------------------------------------------------------
    def _bonus(self, entry: int) -> float:
        # names beat other fields at equal score: the user most likely typed a name
        return 0.5 if self._fields[entry] == "name" else 0.0

    def _substring_scores(self, text: str) -> dict[int, float]:
        scores: dict[int, float] = {}
        haystack, starts, texts = self._haystack, self._starts, self._texts
        find = haystack.find
        position = find(text)
        seen = 0
        while position >= 0 and seen < _MAX_SUBSTRING_MATCHES:
            seen += 1
            entry = bisect_right(starts, position) - 1
            candidate = texts[entry]
            offset = position - starts[entry]
            end = offset + len(text)
            # whole-segment and prefix matches rank above matches inside a word
            ends_segment = end == len(candidate) or not candidate[end].isalnum()
            starts_segment = offset == 0 or not candidate[offset - 1].isalnum()
            score = 90.0 + 5.0 * starts_segment + 4.0 * ends_segment - min(len(candidate) - len(text), 100) / 100
            score += self._bonus(entry)
            if score > scores.get(entry, -1.0):
                scores[entry] = score
            position = find(text, position + 1)
        return scores

    def _vocabulary(self) -> tuple[list[str], frozenset[str]]:
        with self._words_lock:  # built once, even when a search races the warm-up thread
            if self._words is None:
                words = frozenset(w for w in _WORD_SPLIT.split(self._haystack) if w)
                self._words = (sorted(words), words)
            return self._words

    def _corrections(self, word: str) -> list[tuple[str, float]]:
        vocabulary, known = self._vocabulary()
        if word in known:
            return [(word, 100.0)]
        found = process.extract(
            word, vocabulary, scorer=fuzz.ratio, limit=_CORRECTIONS, score_cutoff=_FUZZY_CUTOFF, processor=None
        )
        return [(match, float(score)) for match, score, _ in found]

    def _fuzzy_scores(self, text: str, limit: int) -> dict[int, float]:
        """Typo-tolerant: correct each word of the query to the nearest words of the texts, then
        run the substring pass on each corrected query; a fuzzy score stays below 90."""
        pieces = _TOKENS.split(text)  # words at even positions, separators at odd ones
        options: list[list[tuple[str, float]]] = []
        for position, piece in enumerate(pieces):
            if position % 2 or not piece:
                options.append([(piece, 100.0)])
                continue
            corrections = self._corrections(piece)
            if not corrections:
                return {}
            options.append(corrections)
        combinations = sorted(
            itertools.islice(itertools.product(*options), _MAX_VARIANTS * 4),
            key=lambda combination: -sum(score for _, score in combination),
        )
        scores: dict[int, float] = {}
        covered = 0  # tables behind the entries found so far
        for combination in combinations[:_MAX_VARIANTS]:
            variant = "".join(part for part, _ in combination)
            if variant == text:
                continue
            similarity = sum(score for _, score in combination) / len(combination)
            for entry, score in self._substring_scores(variant).items():
                fuzzy = min(89.0, similarity * 0.89 + (score - 95.0) / 10)
                if entry not in scores:
                    covered += len(self._members[entry])
                if fuzzy > scores.get(entry, -1.0):
                    scores[entry] = fuzzy
            if covered >= limit:
                break  # the closest corrections already fill a page of results
        return scores

    def _expand(self, scores: dict[int, float], best: dict[str, SearchHit], limit: int) -> None:
        """Turn entry scores into table hits, best first, stopping once ``limit`` tables are sure."""
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        cutoff: float | None = None
        for entry, score in ranked:
            if cutoff is not None and score < cutoff:
                break
            matched = f"{self._fields[entry]}: {self._texts[entry]}"
            members = self._members[entry]
            if len(members) > limit:
                # a label or owner of thousands of tables: only the first ids by name can show
                members = heapq.nsmallest(limit + len(best), members, key=self._tables.__getitem__)
            for table in members:
                table_id = self._tables[table]
                current = best.get(table_id)
                if current is None or score > current.score:
                    best[table_id] = SearchHit(table_id, min(100.0, score), matched)
            if cutoff is None and len(best) >= limit:
                cutoff = score  # ties with this score may still sort in by id

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        text = query.strip().lower()
        if not text or limit <= 0:
            return []
        best: dict[str, SearchHit] = {}
        if "\n" not in text:
            self._expand(self._substring_scores(text), best, limit)
        if len(best) < limit:
            self._expand(self._fuzzy_scores(text, limit), best, limit)
        return sorted(best.values(), key=lambda h: (-h.score, h.id))[:limit]
