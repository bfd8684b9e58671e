rule hikvision_digicap
{
    meta:
        id = "hikvision_digicap"
        vendor = "hikvision"
        relationship = "made-by"
        confidence = "0.90"
        component = "Hikvision digicap.dav firmware"
        description = "Hikvision/EZVIZ digicap firmware: XOR-obfuscated SWKH magic with a plausible decoded header length and file count"
        reference = "catalog.md §4 F14 [hiktools_digicap][ezviz_pack]: key BA CD BC FE ..., index (i + (i >> 4)) & 0xF"

    strings:
        $magic = { E9 9A F7 B6 }  // "SWKH" XOR BA CD BC FE

    condition:
        $magic at 0 and (uint32(8) ^ 0xABA3B9BA) >= 0x40 and (uint32(8) ^ 0xABA3B9BA) < 0x10000 and
        (uint32(12) ^ 0xBEB5CBBF) > 0 and (uint32(12) ^ 0xBEB5CBBF) < 256
}
