"""Full-text search over reports, one interface on both databases.

What is indexed: the report's title, description and place (``location_text``), never the
reporter's name or phone (``document``). SQLite: an FTS5 table ``report_search``
(``unicode61`` tokens); PostgreSQL: a table ``report_search`` of ``tsvector`` documents
(configuration ``simple``) with a GIN index. Both are written by ``index`` when a report
arrives (``central.service.take_report``) and filled for older reports by migration
c0005.

A query is words: every word must occur, each as the start of a word ("jalan" finds
"jalanan"), case and accents ignored. Anything else a person types (quotes, operators,
markup, FTS syntax) only separates words, so no query can fail or mean more than its
words. Why ``simple`` and not PostgreSQL's ``indonesian`` (snowball) configuration: FTS5
has no Indonesian stemmer, and the same words must find the same reports on either
database (the tests run both); prefix matching covers the commonest suffixes (-nya, -an,
-kan).
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import column, select, table, text

#: Fields of a report's body that are searched (never ``reporter_name``/``reporter_phone``).
FIELDS = ("title", "description", "location_text")
MAX_TERMS = 8
MAX_TERM_LENGTH = 40
MAX_QUERY_LENGTH = 200
CONFIG = "simple"

SEARCH_TABLE = table("report_search", column("tracking_id"), column("document"))
_WORD = re.compile(r"\w+")


def fold(value: str) -> str:
    """Lower case without accents (the same on both databases, for text and query).

    Plain ASCII (most reports) has nothing to decompose and no accents: lower case is all,
    without a Python step per character (that step was a sixth of a batch's intake)."""
    if value.isascii():
        return value.lower()
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def document(body: dict) -> str:
    """The searchable text of a report's body."""
    parts = [body.get(field) for field in FIELDS]
    return fold(" ".join(p for p in parts if isinstance(p, str)))


def terms(query: str | None) -> list[str]:
    """The words of what was typed (at most MAX_TERMS, each cut to MAX_TERM_LENGTH)."""
    words = _WORD.findall(fold((query or "")[:MAX_QUERY_LENGTH]))
    seen: list[str] = []
    for word in words:
        word = word.replace("_", "")[:MAX_TERM_LENGTH]
        if word and word not in seen:
            seen.append(word)
    return seen[:MAX_TERMS]


def _match_text(dialect: str, words: list[str]) -> str:
    if dialect == "postgresql":
        return " & ".join(f"{w}:*" for w in words)
    return " ".join(f'"{w}"*' for w in words)  # FTS5: each a quoted prefix, all required


def matching(dialect: str, words: list[str]):
    """A SELECT of the Tracking IDs whose text has every word (``words`` from ``terms``)."""
    if dialect == "postgresql":
        condition = text(f"document @@ to_tsquery('{CONFIG}', :search_query)")
    else:
        condition = text("report_search MATCH :search_query")
    return (select(SEARCH_TABLE.c.tracking_id).select_from(SEARCH_TABLE)
            .where(condition.bindparams(search_query=_match_text(dialect, words))))


def index(session, tracking_id: str, body: dict) -> None:
    """Index one report as it arrives, in the caller's transaction."""
    index_many(session, [(tracking_id, body)])


def index_many(session, reports: list[tuple[str, dict]]) -> None:
    """Index many reports at once (arrival, migration back-fill, benchmark seeding); ``session``
    is a Session or a Connection."""
    if not reports:
        return
    rows = [{"t": tracking_id, "d": document(body)} for tracking_id, body in reports]
    dialect = session.dialect if hasattr(session, "dialect") else session.get_bind().dialect  # a Connection or a Session
    if dialect.name == "postgresql":
        session.execute(text(f"INSERT INTO report_search (tracking_id, document) "
                             f"VALUES (:t, to_tsvector('{CONFIG}', :d))"), rows)
    else:
        session.execute(text("INSERT INTO report_search (tracking_id, document) VALUES (:t, :d)"), rows)


def create(bind) -> None:
    """The search table for the connection's database (migration c0005)."""
    if bind.dialect.name == "postgresql":
        bind.execute(text("CREATE TABLE report_search (tracking_id VARCHAR(14) PRIMARY KEY "
                          "REFERENCES reports (tracking_id), document TSVECTOR NOT NULL)"))
        bind.execute(text("CREATE INDEX ix_report_search_document ON report_search USING GIN (document)"))
    else:
        bind.execute(text("CREATE VIRTUAL TABLE report_search USING fts5("
                          "tracking_id UNINDEXED, document, tokenize = 'unicode61 remove_diacritics 2')"))


def drop(bind) -> None:
    bind.execute(text("DROP TABLE report_search"))


def outside_models(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's ``include_name``: False for the search table (and FTS5's own tables),
    which are made by hand for each database, not from ``central.models``."""
    return not (type_ == "table" and (name or "").startswith("report_search"))
