rule huawei_hwnp
{
    meta:
        id = "huawei_hwnp"
        vendor = "huawei"
        relationship = "made-by"
        confidence = "0.90"
        component = "Huawei HWNP ONT firmware"
        description = "Huawei HWNP ONT firmware: HWNP magic with a 36-byte header whose item size is 360 bytes"
        reference = "catalog.md §4 F4 [hwnp]: struct huawei_header (item_sz at 28) and 360-byte huawei_item"

    strings:
        $magic = "HWNP"

    condition:
        $magic at 0 and uint32(28) == 360 and uint32(20) > 0 and uint32(20) < 4096 and uint32(12) >= 36
}
