"""Points: the ledger (orders, refunds, redemptions, adjustments), lots and the daily job."""
