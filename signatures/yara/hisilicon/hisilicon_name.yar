rule hisilicon_name
{
    meta:
        id = "hisilicon_name"
        vendor = "hisilicon"
        relationship = "mentions"
        confidence = "0.20"
        component = "HiSilicon name"
        description = "The HiSilicon company name as seen in binaries (name only)"
        reference = "catalog.md §2.2 [oui_wireshark]"
        weak = "true"

    strings:
        $n = "Hisilicon Technologies" nocase ascii wide

    condition:
        $n
}
