"""Finding SQL files: local directories (and gs:// prefixes through the store)."""

from lineage_core.discovery.sql_files import SqlFile, discover, effective_vars, query_labels

__all__ = ["SqlFile", "discover", "effective_vars", "query_labels"]
