"""SBOM input for `provenance enrich`: the reader identification uses too, re-exported.

The reading itself (CycloneDX through cyclonedx-python-lib, SPDX through spdx-tools) lives in
`provenance.identify.sbom_read`, so that `enrich` and the SBOMs found inside scanned images are
read by one reader.
"""

from __future__ import annotations

from provenance.identify.sbom_read import (
    CDX_VERSIONS,
    MAX_SBOM,
    SCHEMA,
    SPEC,
    SbomError,
    SbomInput,
    actor,
    looks_like_sbom,
    read_sbom,
    spdx2_to_cdx,
    spdx3_to_cdx,
    tagvalue_to_json,
    validator,
)

__all__ = ["CDX_VERSIONS", "MAX_SBOM", "SCHEMA", "SPEC", "SbomError", "SbomInput", "actor",
           "looks_like_sbom", "read_sbom", "spdx2_to_cdx", "spdx3_to_cdx", "tagvalue_to_json",
           "validator"]
