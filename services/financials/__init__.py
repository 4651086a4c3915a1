"""Financial-report extractor: key figures of annual / interim reports, each traced to its page and checked."""
from services.financials import messages  # noqa: F401 - registers the fin.* texts (page title included)
