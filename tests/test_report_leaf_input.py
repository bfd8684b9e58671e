"""A single-file input is listed as the one component examined, and reads back unchanged."""

from __future__ import annotations

import json

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from elfgen import ElfSpec, build  # samples/ is on sys.path (conftest)

from provenance import pipeline
from provenance.report import cyclonedx
from provenance.report.load import from_cyclonedx


def test_flagged_single_binary_is_in_components(tmp_path, sigset):
    lib = tmp_path / "libmpi.so"
    lib.write_bytes(build(ElfSpec(soname="libmpi.so", exports=["HI_MPI_SYS_Init"],
                                  strings=["HI_VERSION=Hi3516EV200_MPP_V1.0.1.2 B030 Release"])))
    result = pipeline.scan(lib, sigset, pipeline.ScanOptions(reproducible=True))
    text = cyclonedx.render(result)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    (only,) = [c for c in doc["components"] if c["type"] != "device"]  # parts aside
    props = {p["name"]: p["value"] for p in only["properties"]}
    assert only["bom-ref"] == doc["metadata"]["component"]["bom-ref"] + cyclonedx.LEAF_SUFFIX
    assert props["provenance:vendor"] == "hisilicon"
    assert props["provenance:verdict"] == "restricted"
    again = from_cyclonedx(doc)
    assert cyclonedx.render(again) == text
    assert again.findings == result.findings
