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

    condition:
        $magic at 92 and for all i in (0..22) : (uint32(i * 4) == 0) and uint32(100) == 1 and
        uint32(96) >= 98 and uint32(96) < 0x10000 and uint16(186) == 0x1000 and uint16(188) == 0
}
