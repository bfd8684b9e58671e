rule quectel_name
{
    meta:
        id = "quectel_name"
        vendor = "quectel"
        relationship = "mentions"
        confidence = "0.20"
        component = "Quectel name"
        description = "The Quectel company name as seen in binaries (name only)"
        reference = "catalog.md §2.10 [usb_ids][oui_wireshark]"
        weak = "true"

    strings:
        $n = "Quectel Wireless Solutions" nocase ascii wide

    condition:
        $n
}
