"""How much of a search is ranked: a bound the search and its documented shapes share."""

from __future__ import annotations

# Ranking reads each candidate's whole vector, so a word found in most documents must not
# make every one of them a candidate. Candidates are the first CANDIDATE_LIMIT documents
# whose title matches plus the first CANDIDATE_LIMIT whose text matches, in index order;
# only those are ranked and counted (`page.total`), and `query.capped` says so.
CANDIDATE_LIMIT = 500
