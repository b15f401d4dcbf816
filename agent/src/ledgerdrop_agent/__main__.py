"""`python -m ledgerdrop_agent`, the form the service unit runs."""

from ledgerdrop_agent.cli import main

raise SystemExit(main())
