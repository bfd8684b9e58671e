rule dahua_name
{
    meta:
        id = "dahua_name"
        vendor = "dahua"
        relationship = "mentions"
        confidence = "0.20"
        component = "Dahua name"
        description = "The Dahua company name as seen in binaries (name only; Shanghai Dahua Scale Factory is not Dahua)"
        reference = "catalog.md §2.6 [oui_wireshark]"
        weak = "true"

    strings:
        $n = "Zhejiang Dahua Technology" nocase ascii wide

    condition:
        $n
}
