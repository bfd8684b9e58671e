rule zte_name
{
    meta:
        id = "zte_name"
        vendor = "zte"
        relationship = "mentions"
        confidence = "0.20"
        component = "ZTE name"
        description = "The ZTE company name as seen in binaries (name only; ztest, Aztech, ZTEC are not ZTE)"
        reference = "catalog.md §2.4 [oui_wireshark][usb_ids]"
        weak = "true"

    strings:
        $n1 = "ZTE Corporation" nocase ascii wide fullword
        $n2 = "ZTE WCDMA Technologies" ascii wide

    condition:
        any of them
}
