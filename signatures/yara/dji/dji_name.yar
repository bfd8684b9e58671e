rule dji_name
{
    meta:
        id = "dji_name"
        vendor = "dji"
        relationship = "mentions"
        confidence = "0.20"
        component = "DJI name"
        description = "The DJI company name as seen in binaries (name only; djinn, djitellopy are not DJI)"
        reference = "catalog.md §2.9 [elastic_behavior][usb_ids]"
        weak = "true"

    strings:
        $n1 = "SZ DJI Technology" nocase ascii wide
        $n2 = "DJI Technology Co., Ltd." ascii wide

    condition:
        any of them
}
