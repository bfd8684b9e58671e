"""Hand-built scan results for the report and policy tests (pure model values, no scan)."""

from __future__ import annotations

import dataclasses

from provenance.model import (
    Attribution,
    Component,
    Coverage,
    Evidence,
    Finding,
    Manufacturer,
    PolicyEntry,
    Problem,
    ProblemKind,
    Relationship,
    ScanResult,
    Stage,
    Stats,
    Verdict,
)
from provenance.policy import rollup

HISI = Manufacturer("hisilicon", "HiSilicon Technologies Co., Ltd.", "CN", "huawei")
HUAWEI = Manufacturer("huawei", "Huawei Technologies Co., Ltd.", "CN", None)
ENTRY = PolicyEntry("us-ndaa-889", "Huawei Technologies Company (or any subsidiary or affiliate "
                    "of such entity)", "Pub. L. 115-232 §889(f)(3)(A)", "2019-08-13",
                    "telecommunications equipment, any use")


def _ev(rule: str, detail: str, location: str, conf: float = 0.95,
        signal: str = "string") -> Evidence:
    return Evidence("binary-analysis", signal, detail, location, rule, conf)


def component(chain: tuple[str, ...], sha: str, **kw: object) -> Component:
    ref = "ref-" + "-".join(chain).replace("/", "_").replace(".", "_").replace(" ", "_")
    return Component(ref=ref, chain=chain, name=chain[-1].rsplit("/", 1)[-1], kind=str(
        kw.pop("kind", "elf")), sha256=sha, size=int(kw.pop("size", 1234)), **kw)  # type: ignore[arg-type]


def sample_result(waived: bool = False) -> ScanResult:
    """fw.tar.gz holding a HiSilicon libmpi.so (restricted), a Huawei-supporting driver
    (not flagged), a lineage library (review), an opaque blob and a clean busybox."""
    top = ("fw image.tar.gz",)
    mpi_loc = "fw image.tar.gz!/rootfs/usr/lib/libmpi.so"
    libmpi = component(
        (*top, "rootfs/usr/lib/libmpi.so"), "a" * 64, type="library", version="1.0.1.2",
        manufacturer=HISI,
        attributions=(Attribution(
            "hisilicon", Relationship.MADE_BY, 0.95,
            (_ev("hisilicon_mpp_version", "HI_VERSION=Hi3516EV200_MPP_V1.0.1.2 B030 Release",
                 mpi_loc + "@0x1f40"),
             _ev("elf.symbol.export", "HI_MPI_SYS_Init", mpi_loc + "#dynsym", 0.6, "symbol"),
             _ev("copyright", "Copyright (c) HiSilicon Technologies Co., Ltd.", mpi_loc, 0.5,
                 "copyright")),
            component="HiSilicon MPP SDK", version="1.0.1.2"),))
    option = component(
        (*top, "rootfs/lib/modules/option.ko"), "b" * 64, type="library",
        attributions=(Attribution("huawei", Relationship.SUPPORTS, 0.1, (
            _ev("usb.id.table", "12d1:1001", "fw image.tar.gz!/rootfs/lib/modules/option.ko",
                0.1, "identifier"),)),))
    goke = component(
        (*top, "rootfs/usr/lib/libgk_api.so"), "c" * 64, type="library", purl="pkg:generic/gk@2.0",
        attributions=(Attribution("hisilicon", Relationship.LINEAGE, 0.5, (
            _ev("hisilicon_mpp_symbols", "HI_MPI_VI_Init",
                "fw image.tar.gz!/rootfs/usr/lib/libgk_api.so", 0.5, "symbol"),)),))
    blob = component((*top, "rootfs/opt/blob.enc"), "d" * 64, kind="data",
                     opaque="encrypted (high entropy)")
    busybox = component((*top, "rootfs/bin/busybox"), "e" * 64, type="application",
                        supplier="BusyBox project")
    root = Component(ref="ref-root", chain=top, name="fw image.tar.gz", kind="tar",
                     sha256="f" * 64, size=99999, type="firmware",
                     children=(libmpi, option, goke, blob, busybox))
    findings = (
        Finding(libmpi.ref, libmpi.path, "hisilicon", Verdict.RESTRICTED, Relationship.MADE_BY,
                0.95, (ENTRY,), "made-by hisilicon (affiliate of huawei) at 0.95, listed by "
                "us-ndaa-889",
                waiver=("Lab unit (approved by J. Doe, expires 2030-01-01)" if waived else None)),
        Finding(goke.ref, goke.path, "hisilicon", Verdict.REVIEW, Relationship.LINEAGE, 0.5,
                (ENTRY,), "lineage hisilicon (affiliate of huawei) at 0.50, listed by "
                "us-ndaa-889"),
    )
    verdicts = rollup(root, findings)
    return ScanResult(
        root=root, findings=findings,
        problems=(Problem(blob.path, Stage.EXTRACT, "encrypted (high entropy)",
                          ProblemKind.UNSUPPORTED),),
        coverage=Coverage.PARTIAL, verdict=verdicts[root.ref], verdicts=verdicts,
        stats=Stats(files=5, bytes=99999, opaque=1, seconds=0.25), tool_version="0.1.0",
        signature_digest="sha256:" + "0123456789abcdef" * 4, policies=("us-ndaa-889",),
        started="2026-01-02T03:04:05+00:00", vendors={"hisilicon": HISI, "huawei": HUAWEI})


def clean_result() -> ScanResult:
    r = sample_result()
    root = dataclasses.replace(r.root, children=(r.root.children[4],))
    return dataclasses.replace(r, root=root, findings=(), problems=(), coverage=Coverage.COMPLETE,
                               verdict=Verdict.CLEAR, verdicts=rollup(root, ()),
                               stats=Stats(files=1, bytes=1234))


def test_sample_result_is_consistent():
    r = sample_result()
    assert r.verdict is Verdict.RESTRICTED
    assert {f.component for f in r.findings} <= {c.ref for c in r.components()}
    assert sample_result(waived=True).verdict is Verdict.REVIEW  # waived restricted drops out
