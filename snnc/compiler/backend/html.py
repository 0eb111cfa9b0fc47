"""The HTML view of a placement report, shared by every target whose report has pictures: the report's
tables (report.html, jinja2 with autoescape) and PNG figures embedded as base64 data URIs, so that
report.html is one self-contained file. A target's renderer draws its figures and calls `render_html`."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np

from snnc.compiler.backend.report import glossary, templates, training_summary, utilization


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
    html = templates().get_template(template).render(report=report, utilization=utilization, images=images,
                                                     glossary=glossary(report, template != "report.html"),
                                                     trained=training_summary(report),
                                                     **extra)
    return html.encode("utf-8")


def stack_png(pngs: list[bytes]) -> bytes:
    """PNG pictures one above the other, as one PNG (narrower ones padded with white on the right)."""
    import matplotlib.image

    if len(pngs) == 1:
        return pngs[0]
    images = [matplotlib.image.imread(io.BytesIO(png), format="png") for png in pngs]
    images = [np.concatenate([i, np.ones(i.shape[:2] + (4 - i.shape[2],), i.dtype)], axis=2) if i.shape[2] == 3
              else i for i in images]
    width = max(i.shape[1] for i in images)
    padded = [np.pad(i, ((0, 0), (0, width - i.shape[1]), (0, 0)), constant_values=1.0) for i in images]
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, np.concatenate(padded, axis=0), format="png")
    return buffer.getvalue()
