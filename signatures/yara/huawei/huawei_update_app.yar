rule huawei_update_app
{
    meta:
        id = "huawei_update_app"
        vendor = "huawei"
        relationship = "made-by"
        confidence = "0.90"
        component = "Huawei UPDATE.APP firmware container"
        description = "Huawei UPDATE.APP: 92 zero bytes, block magic 55 AA 5A A5, header version 1, 0x1000 marker after the header CRC"
        reference = "catalog.md §4 F1 [uapp_kirintool][uapp_perl]; the lone magic is a false friend (§6)"

    strings:
        $magic = { 55 AA 5A A5 }

    // At least as strict as the extractor's validator (extract/firmware/huawei.py detect_app),
    // which also decides whether identification reads the header: every check it makes is here
    // (tests/test_vendor_containers.py holds the two to that).
    condition:
        $magic at 92 and for all i in (0..22) : (uint32(i * 4) == 0) and uint32(100) == 1 and
        uint32(96) >= 98 and uint32(96) < 0x10000 and uint16(186) == 0x1000 and uint16(188) == 0 and
        // partition name (152..167): printable, at least one character, then only NUL padding
        uint8(152) > 0x20 and uint8(152) < 0x7f and
        for all j in (153..167) : (uint8(j) == 0 or (uint8(j) > 0x20 and uint8(j) < 0x7f and uint8(j - 1) != 0)) and
        // the 16 bytes after the name are zero
        uint32(168) == 0 and uint32(172) == 0 and uint32(176) == 0 and uint32(180) == 0
}
