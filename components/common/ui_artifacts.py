"""Artifact types the Kubeflow Pipelines UI renders, as TFX artifact classes.

KFP's UI (frontend/src: MetricsVisualizations, the HTML and Markdown viewers) draws an artifact by
its type's schema title: `system.Metrics` as a table of its numeric custom properties,
`system.ClassificationMetrics` as a confusion matrix and an ROC curve,
`system.HTML` and `system.Markdown` by reading the file at the artifact's URI. TFX's Kubeflow V2
compiler writes a custom artifact class's TYPE_NAME as the schema title, so these classes compile
to exactly those types; KFP's launcher records them in ML Metadata under those names. HTML and
Markdown are ValueArtifacts: their URI is the file itself (KFP's SDK `dsl.HTML`/`dsl.Markdown`
likewise), which TFX creates as a file rather than a directory. `display_name` is the name the
UI lists the artifact under.
"""

from __future__ import annotations

from tfx.types import artifact
from tfx.types.value_artifact import ValueArtifact

DISPLAY_NAME = "display_name"


class Metrics(artifact.Artifact):
    """Numbers as custom properties (KFP SDK `dsl.Metrics`)."""

    TYPE_NAME = "system.Metrics"


class ClassificationMetrics(artifact.Artifact):
    """`confusionMatrix` and `confidenceMetrics` (ROC points) as JSON custom properties (KFP SDK
    `dsl.ClassificationMetrics`: `set_confusion_matrix_categories`, `log_roc_data_point`)."""

    TYPE_NAME = "system.ClassificationMetrics"


class _Text(ValueArtifact):
    def encode(self, value: str) -> bytes:
        return value.encode("utf-8")

    def decode(self, serialized_value: bytes) -> str:
        return serialized_value.decode("utf-8")


class HTML(_Text):
    """A self-contained page at the artifact's URI (KFP SDK `dsl.HTML`)."""

    TYPE_NAME = "system.HTML"


class Markdown(_Text):
    """A Markdown file at the artifact's URI (KFP SDK `dsl.Markdown`)."""

    TYPE_NAME = "system.Markdown"


# Schema title -> class path, for TFX's Kubeflow V2 entrypoint: it imports a custom type's class by
# its schema title, which for these is KFP's `system.*` (pipelines/kfp_entrypoint.py registers it).
CLASS_PATHS = {cls.TYPE_NAME: f"{__name__}.{cls.__name__}"
               for cls in (Metrics, ClassificationMetrics, HTML, Markdown)}
