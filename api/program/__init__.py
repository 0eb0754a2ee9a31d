"""Program: settings (earning rule, currencies, windows, policies) and the test clock."""
