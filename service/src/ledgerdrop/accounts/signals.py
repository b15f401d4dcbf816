"""What accounts tells the apps above it, which it may not import (layers run one way)."""

from django.dispatch import Signal

# Sent inside the transaction that removes a company's link to its firm, just before the dossier
# goes, with `dossier`, `firm`, `company` and `by`: what the apps above were doing for that firm
# with that company's documents stops in the same transaction.
dossier_unlinked = Signal()
