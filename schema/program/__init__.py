"""Program settings and the test clock."""
