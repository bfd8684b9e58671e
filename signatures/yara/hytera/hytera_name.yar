rule hytera_name
{
    meta:
        id = "hytera_name"
        vendor = "hytera"
        relationship = "mentions"
        confidence = "0.20"
        component = "Hytera name"
        description = "The Hytera company name as seen in binaries (name only)"
        reference = "catalog.md §2.7 [usb_ids][oui_wireshark]"
        weak = "true"

    strings:
        $n = "Hytera Communications" nocase ascii wide

    condition:
        $n
}
