"""`modq transparency export|status|report`: EU DSA statements of reasons, their submission to the Transparency
Database, and the transparency report (README "Transparency (EU DSA)"). One module a command."""

from __future__ import annotations

import typer

from moderation.cli import transparency_export, transparency_report, transparency_status

app = typer.Typer(help="EU DSA transparency: statements of reasons, their submission, the report.",
                  no_args_is_help=True)
app.command("export")(transparency_export.export)
app.command("status")(transparency_status.status)
app.command("report")(transparency_report.report)
