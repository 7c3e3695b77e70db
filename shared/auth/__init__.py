"""Authentication: user sessions, CSRF, and OIDC verification of Cloud Tasks / Scheduler calls."""
