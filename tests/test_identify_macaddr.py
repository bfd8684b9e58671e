"""Assigned MAC addresses become facts; vendor prefix tables do not (catalog §6)."""

from __future__ import annotations

from provenance.identify import macaddr
from provenance.identify.base import Sink


def macs(data: bytes) -> list[str]:
    sink = Sink("env.bin")
    macaddr.scan(data, sink)
    return [f.value for f in sink.facts if f.key == "net.mac"]


def test_uboot_environment_and_config_assignments():
    env = (b"bootdelay=1\x00ethaddr=00:18:82:12:34:56\x00eth1addr=00-1e-10-aa-bb-cc\x00"
           b"option macaddr '34:BD:20:01:02:03'\n" b'"wlan_mac": "84:8a:59:00:00:01"\n')
    assert macs(env) == ["00:18:82:12:34:56", "00:1E:10:AA:BB:CC", "34:BD:20:01:02:03",
                         "84:8A:59:00:00:01"]


def test_prefix_tables_broadcast_and_local_addresses_are_not_facts():
    driver_table = b"static const char *huawei_ouis[] = {\"00:18:82\", \"00:1E:10\"};\n"
    assert macs(driver_table) == []
    assert macs(b"ethaddr=ff:ff:ff:ff:ff:ff\nmac=00:00:00:00:00:00\n") == []
    assert macs(b"ethaddr=02:11:22:33:44:55\n") == []  # locally administered
    assert macs(b"ethaddr=00:18:82:12:34:56:78\n") == []  # not a MAC (too long)


def test_hostile_bytes_never_raise_and_stay_bounded():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=4096))
    def check(data: bytes) -> None:
        assert len(macs(data + b"ethaddr=00:18:82:00:00:01" * 40)) <= macaddr.MAX_MACS

    check()
