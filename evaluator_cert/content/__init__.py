"""Content: the schema, the loader (errors name file:line), the catalog and its checks."""

from evaluator_cert.content.catalog import (
    CONTENT_DIR_ENV,
    Catalog,
    ItemOrigin,
    clear_catalog_cache,
    default_content_root,
    load_catalog,
)
from evaluator_cert.content.loader import ContentError, Problem, load_content
from evaluator_cert.content.validate import (
    ValidationReport,
    report_to_json,
    run_validate_cli,
    validate_content,
)

__all__ = [
    "CONTENT_DIR_ENV",
    "Catalog",
    "ContentError",
    "ItemOrigin",
    "Problem",
    "ValidationReport",
    "clear_catalog_cache",
    "default_content_root",
    "load_catalog",
    "load_content",
    "report_to_json",
    "run_validate_cli",
    "validate_content",
]
