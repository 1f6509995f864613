"""Accounts: signing in and out, and the commands that create administrators."""
