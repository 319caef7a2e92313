"""Finding SQL files: local directories (and gs:// prefixes through the store)."""

from lineage_core.discovery.sql_files import SqlFile, VariablesOfFiles, discover, effective_vars, query_labels

__all__ = ["SqlFile", "VariablesOfFiles", "discover", "effective_vars", "query_labels"]
