"""Shared kernel (公共): money, errors, identity numbers, clock."""
