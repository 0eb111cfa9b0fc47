"""The HTML view of a placement report, shared by every target whose report has pictures: the report's
tables (report.html, jinja2 with autoescape) and PNG figures embedded as base64 data URIs, so that
report.html is one self-contained file. A target's renderer draws its figures and calls `render_html`."""

from __future__ import annotations

import base64
import io
from typing import Any

from snnc.compiler.backend.report import templates, utilization


def figure_png(figure: Any) -> bytes:
    """A matplotlib Figure (made with `matplotlib.figure.Figure`, no pyplot state) as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def render_html(report: dict[str, Any], figures: list[tuple[str, bytes]], template: str = "report.html",
                **extra: Any) -> bytes:
    """report.html: the report's tables and each (caption, PNG) figure, in one file. A target may
    pass its own template extending report.html (its blocks `style`, `resources`, `partitions`) and
    the extra names that template uses."""
    images = [(caption, "data:image/png;base64," + base64.b64encode(png).decode("ascii"))
              for caption, png in figures]
    html = templates().get_template(template).render(report=report, utilization=utilization,
                                                     images=images, **extra)
    return html.encode("utf-8")
