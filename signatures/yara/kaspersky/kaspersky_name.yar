rule kaspersky_name
{
    meta:
        id = "kaspersky_name"
        vendor = "kaspersky"
        relationship = "mentions"
        confidence = "0.20"
        component = "Kaspersky name"
        description = "The Kaspersky company name as seen in binaries (name only)"
        reference = "catalog.md §2.8 [elastic_behavior]"
        weak = "true"

    strings:
        $n = "Kaspersky Lab" nocase ascii wide

    condition:
        $n
}
