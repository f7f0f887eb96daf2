"""Billing (收银): paying for a policy bought online through a payment gateway."""
