rule huawei_hwnp
{
    meta:
        id = "huawei_hwnp"
        vendor = "huawei"
        relationship = "made-by"
        confidence = "0.90"
        component = "Huawei HWNP ONT firmware"
        description = "Huawei HWNP ONT firmware: HWNP magic with a sane 36-byte header (item size 128..2048, usually 360; 1..4096 items)"
        reference = "catalog.md §4 F4 [hwnp]: struct huawei_header (LE item_counts at 0x14, item_sz at 0x1C; raw_sz/raw_crc32 may be big-endian in real images)"

    strings:
        $magic = "HWNP"

    condition:
        $magic at 0 and uint32(28) >= 128 and uint32(28) <= 2048 and uint32(20) > 0 and uint32(20) <= 4096 and
        uint32(12) >= 36
}
