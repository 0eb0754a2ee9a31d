"""Points: balances, lots, history, orders, and the mutations that move points."""
