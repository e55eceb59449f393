"""Exchange implementations. Import a module (``wrappers.vest``) directly; this package
imports none of them by itself."""
