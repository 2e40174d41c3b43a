"""The self-hosted web console at ``/dashboard`` (SPEC §10): server-rendered, works without JS."""
