"""Billing (收付费).

* ``model``, ``services``, ``gateway``, ``ports``: paying for a policy bought online through a
  payment gateway (one order per quote).
* Pure domain rules, no I/O: ``schedule`` (premium schedules, invoices, grace, lapse,
  reinstatement), ``loans`` (policy loans, renewal, automatic premium loan), ``account``
  (account value, dividends, yearly statement), ``annuity`` (pensions and survival benefits),
  ``payables`` (pay-outs with their deduplication keys) and ``interest`` (the conventions).
"""
