"""主动服务 Outreach: notices to customers — the inbox, and the outbox of text messages."""
