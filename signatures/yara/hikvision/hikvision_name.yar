rule hikvision_name
{
    meta:
        id = "hikvision_name"
        vendor = "hikvision"
        relationship = "mentions"
        confidence = "0.20"
        component = "Hikvision name"
        description = "The Hikvision company name as seen in binaries (name only)"
        reference = "catalog.md §2.5 [elastic_behavior][oui_ieee_2024]"
        weak = "true"

    strings:
        $n = "Hikvision Digital Tech" nocase ascii wide

    condition:
        $n
}
