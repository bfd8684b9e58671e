rule lorex_name
{
    meta:
        id = "lorex_name"
        vendor = "lorex"
        relationship = "mentions"
        confidence = "0.20"
        component = "Lorex name"
        description = "The Lorex company name as seen in binaries (name only; Jorex Lorex India is not Lorex)"
        reference = "catalog.md §2.6 [oui_wireshark]"
        weak = "true"

    strings:
        $n = "Lorex Technology" nocase ascii wide

    condition:
        $n
}
