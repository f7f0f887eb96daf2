"""身份 Identity: customers sign in with a phone and a one-time code; staff with a password
and roles."""
