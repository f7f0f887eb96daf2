"""Policies (承保 / 保全): parties, quotes, underwriting, policies, endorsements, renewals."""
