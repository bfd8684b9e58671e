rule kaspersky_kav_sdk
{
    meta:
        id = "kaspersky_kav_sdk"
        vendor = "kaspersky"
        relationship = "contains"
        confidence = "0.85"
        component = "Kaspersky Anti-Virus SDK engine"
        description = "The Kaspersky scan engine version string (KAV SDK vN.N.N.N) inside an OEM product"
        reference = "catalog.md §2.8, §4 F20 [kav_sdk]: 'KAV SDK v8.9.2.595'"
        version_regex = "KAV SDK v([\\d.]+)"

    strings:
        $v = /KAV SDK v[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,5}/ ascii wide

    condition:
        $v
}
